using System;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using Polly.Timeout;

namespace LlmGuard.Tests.Failures;

/// <summary>
/// A guarded core calling the real Anthropic SDK against a loopback server that speaks /v1/messages: the HTTP
/// requests the server saw are the attempts the guard made.
/// </summary>
public sealed class AnthropicFailureTests
{
    private const string Answer = """
        {"id":"msg_1","type":"message","role":"assistant","model":"claude-test",
         "content":[{"type":"text","text":"hello"}],"stop_reason":"end_turn","stop_sequence":null,
         "usage":{"input_tokens":1,"output_tokens":1}}
        """;

    // MaxRetries = 2 on every test method: a transient failure is attempted three times, a permanent one once.
    private const int TransientAttempts = 3;

    public static TheoryData<string, int> FailuresAndAttempts => new()
    {
        { "408", TransientAttempts },
        { "429", TransientAttempts },
        { "500", TransientAttempts },
        { "503", TransientAttempts },
        { "529 overloaded", TransientAttempts },
        { "connection reset", TransientAttempts },
        { "400 context length", 1 },
        { "401", 1 },
        { "403", 1 },
        { "404", 1 },
        { "409", 1 },
        { "422", 1 },
        { "malformed body", 1 },
    };

    [Theory]
    [MemberData(nameof(FailuresAndAttempts))]
    public async Task A_failure_is_attempted_again_only_when_transient(string failure, int attempts)
    {
        await using ModelServer server = await ModelServer.StartAsync(Reply(failure));
        var time = new RecordingTimeProvider();
        var assistant = new ClaudeAssistant(new GuardRuntime(time), ClaudeAssistant.Client(server.BaseAddress));

        (string answer, _) = await time.DriveAsync(assistant.AskAsync("hi"));

        Assert.Equal("fallback", answer);
        Assert.Equal(attempts, server.Requests);
        Assert.Equal(1, assistant.Fallbacks.Count);
    }

    [Fact]
    public async Task An_overloaded_answer_followed_by_an_answer_returns_the_answer()
    {
        await using ModelServer server = await ModelServer.StartAsync(Reply("529 overloaded"), ServerReply.Status(200, Answer));
        var time = new RecordingTimeProvider();
        var assistant = new ClaudeAssistant(new GuardRuntime(time), ClaudeAssistant.Client(server.BaseAddress));

        (string answer, _) = await time.DriveAsync(assistant.AskAsync("hi"));

        Assert.Equal("hello", answer);
        Assert.Equal(2, server.Requests);
    }

    [Fact]
    public async Task Retry_After_is_not_visible_through_the_SDK_so_the_backoff_applies()
    {
        // The SDK's exceptions carry no response headers: a 429 asking for more than the cap is still retried, on
        // the method's own backoff (RetryDelayMs = 0 here), as docs/model-sdks.md says.
        await using ModelServer server = await ModelServer.StartAsync(
            ServerReply.Status(429, Error("rate_limit_error", "Number of requests has exceeded your rate limit"), ("Retry-After", "31"), ("retry-after-ms", "31000")));
        var time = new RecordingTimeProvider();
        var assistant = new ClaudeAssistant(new GuardRuntime(time), ClaudeAssistant.Client(server.BaseAddress));

        (string answer, _) = await time.DriveAsync(assistant.AskAsync("hi"));

        Assert.Equal("fallback", answer);
        Assert.Equal(TransientAttempts, server.Requests);
    }

    [Fact]
    public async Task A_hanging_request_is_cut_by_the_attempt_timeout_and_attempted_again()
    {
        await using ModelServer server = await ModelServer.StartAsync(ServerReply.Hang);
        var time = new RecordingTimeProvider();
        var assistant = new ClaudeAssistant(new GuardRuntime(time), ClaudeAssistant.Client(server.BaseAddress));

        Task<string> call = assistant.AskWithTimeoutAsync("hi");
        for (int attempt = 1; attempt <= TransientAttempts; attempt++)
        {
            // The attempt's timeout timer exists before its request is sent, so advancing now fires it.
            await server.WaitForRequestsAsync(attempt);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal("fallback", await call.Within());
        Assert.Equal(TransientAttempts, server.Requests);
        Assert.IsType<TimeoutRejectedException>(assistant.Fallbacks.LastFailure);
    }

    [Fact]
    public async Task With_the_SDK_retries_left_on_every_attempt_of_the_guard_is_three_requests()
    {
        // The SDK retries a 5xx twice by itself by default (here after the 1 ms the server asks for), inside each of
        // the guard's three attempts: 9 requests for one execution.
        await using ModelServer server = await ModelServer.StartAsync(ServerReply.Status(529, Overloaded, ("retry-after-ms", "1")));
        var time = new RecordingTimeProvider();
        var client = new Anthropic.AnthropicClient { ApiKey = "test-key", BaseUrl = server.BaseAddress.ToString().TrimEnd('/') };
        var assistant = new ClaudeAssistant(new GuardRuntime(time), client);

        (string answer, _) = await time.DriveAsync(assistant.AskAsync("hi"));

        Assert.Equal("fallback", answer);
        Assert.Equal(TransientAttempts * 3, server.Requests);
    }

    private const string Overloaded = """{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}""";

    private static string Error(string type, string message) => $$$"""{"type":"error","error":{"type":"{{{type}}}","message":"{{{message}}}"}}""";

    private static ServerReply Reply(string failure) => failure switch
    {
        "408" => ServerReply.Status(408, Error("timeout_error", "Request timed out")),
        "429" => ServerReply.Status(429, Error("rate_limit_error", "Number of requests has exceeded your rate limit")),
        "500" => ServerReply.Status(500, Error("api_error", "Internal server error")),
        "503" => ServerReply.Status(503, Error("api_error", "Service unavailable")),
        "529 overloaded" => ServerReply.Status(529, Overloaded),
        "connection reset" => ServerReply.Reset,
        "400 context length" => ServerReply.Status(400, Error("invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum")),
        "401" => ServerReply.Status(401, Error("authentication_error", "invalid x-api-key")),
        "403" => ServerReply.Status(403, Error("permission_error", "Your API key does not have permission to use the specified resource")),
        "404" => ServerReply.Status(404, Error("not_found_error", "model: claude-test")),
        "409" => ServerReply.Status(409, Error("invalid_request_error", "Conflict")),
        "422" => ServerReply.Status(422, Error("invalid_request_error", "Unprocessable")),
        "malformed body" => ServerReply.Status(200, """{"id":"msg_1","type":"message","content":[{"type":"te"""),
        _ => throw new ArgumentOutOfRangeException(nameof(failure)),
    };
}
