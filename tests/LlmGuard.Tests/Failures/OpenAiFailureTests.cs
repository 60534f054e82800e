using System;
using System.ClientModel;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Failures;
using LlmGuard.Tests.Fakes;
using Microsoft.Extensions.AI;
using OpenAI.Chat;
using Polly.Timeout;

namespace LlmGuard.Tests.Failures;

/// <summary>
/// A guarded core calling the real OpenAI SDK (directly and through Microsoft.Extensions.AI) against a loopback
/// server that speaks /v1/chat/completions: the HTTP requests the server saw are the attempts the guard made.
/// </summary>
public sealed class OpenAiFailureTests
{
    private const string Completion = """
        {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini",
         "choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],
         "usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}
        """;

    // MaxRetries = 2 on every test method: a transient failure is attempted three times, a permanent one once.
    private const int TransientAttempts = 3;

    public static TheoryData<string, int> FailuresAndAttempts => new()
    {
        { "429", TransientAttempts },
        { "500", TransientAttempts },
        { "503", TransientAttempts },
        { "connection reset", TransientAttempts },
        { "400 context length", 1 },
        { "401", 1 },
        { "403", 1 },
        { "404", 1 },
        { "422 content filter", 1 },
        { "malformed body", 1 },
    };

    [Theory]
    [MemberData(nameof(FailuresAndAttempts))]
    public async Task A_failure_is_attempted_again_only_when_transient(string failure, int attempts)
    {
        await using ModelServer server = await ModelServer.StartAsync(Reply(failure));
        var time = new RecordingTimeProvider();
        var assistant = new OpenAiAssistant(new GuardRuntime(time), OpenAiAssistant.Client(server.BaseAddress));

        (string answer, _) = await time.DriveAsync(assistant.AskAsync("hi"));

        Assert.Equal("fallback", answer);
        Assert.Equal(attempts, server.Requests);
        Assert.Equal(1, assistant.Fallbacks.Count);
    }

    [Theory]
    [MemberData(nameof(FailuresAndAttempts))]
    public async Task Through_Microsoft_Extensions_AI_a_failure_is_attempted_again_only_when_transient(string failure, int attempts)
    {
        await using ModelServer server = await ModelServer.StartAsync(Reply(failure));
        var time = new RecordingTimeProvider();
        IChatClient chat = OpenAiAssistant.Client(server.BaseAddress).AsIChatClient();
        var assistant = new ChatClientAssistant(new GuardRuntime(time), chat);

        (string answer, _) = await time.DriveAsync(assistant.AskAsync("hi"));

        Assert.Equal("fallback", answer);
        Assert.Equal(attempts, server.Requests);
    }

    [Fact]
    public async Task A_transient_failure_followed_by_an_answer_returns_the_answer()
    {
        await using ModelServer server = await ModelServer.StartAsync(Reply("503"), ServerReply.Status(200, Completion));
        var time = new RecordingTimeProvider();
        var assistant = new OpenAiAssistant(new GuardRuntime(time), OpenAiAssistant.Client(server.BaseAddress));

        (string answer, _) = await time.DriveAsync(assistant.AskAsync("hi"));

        Assert.Equal("hello", answer);
        Assert.Equal(2, server.Requests);
        Assert.Equal(0, assistant.Fallbacks.Count);
    }

    [Fact]
    public async Task The_next_attempt_waits_exactly_as_long_as_Retry_After_or_retry_after_ms_asks()
    {
        await using ModelServer server = await ModelServer.StartAsync(
            ServerReply.Status(429, RateLimited, ("Retry-After", "2")),
            ServerReply.Status(503, Overloaded, ("retry-after-ms", "1500")),
            ServerReply.Status(200, Completion));
        var time = new RecordingTimeProvider();
        var assistant = new OpenAiAssistant(new GuardRuntime(time), OpenAiAssistant.Client(server.BaseAddress));

        (string answer, TimeSpan[] delays) = await time.DriveAsync(assistant.AskAsync("hi"));

        Assert.Equal("hello", answer);
        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(1500)], delays);
        Assert.Equal(3, server.Requests);
    }

    [Fact]
    public async Task Through_Microsoft_Extensions_AI_the_next_attempt_waits_as_long_as_Retry_After_asks()
    {
        await using ModelServer server = await ModelServer.StartAsync(
            ServerReply.Status(429, RateLimited, ("Retry-After", "3")),
            ServerReply.Status(200, Completion));
        var time = new RecordingTimeProvider();
        var assistant = new ChatClientAssistant(new GuardRuntime(time), OpenAiAssistant.Client(server.BaseAddress).AsIChatClient());

        (string answer, TimeSpan[] delays) = await time.DriveAsync(assistant.AskAsync("hi"));

        Assert.Equal("hello", answer);
        Assert.Equal([TimeSpan.FromSeconds(3)], delays);
    }

    [Fact]
    public async Task A_Retry_After_longer_than_MaxRetryAfterMs_ends_the_attempts_at_once()
    {
        // 31 s against the default cap of 30 s: waiting would hold every caller of the execution.
        await using ModelServer server = await ModelServer.StartAsync(ServerReply.Status(429, RateLimited, ("Retry-After", "31")));
        var time = new RecordingTimeProvider();
        var assistant = new OpenAiAssistant(new GuardRuntime(time), OpenAiAssistant.Client(server.BaseAddress));

        (string answer, TimeSpan[] delays) = await time.DriveAsync(assistant.AskAsync("hi"));

        Assert.Equal("fallback", answer);
        Assert.Equal(1, server.Requests);
        Assert.Empty(delays);
        Assert.Equal(429, Assert.IsType<ClientResultException>(assistant.Fallbacks.LastFailure).Status);
    }

    [Fact]
    public async Task MaxRetryAfterMs_set_on_the_attribute_caps_the_wait()
    {
        await using ModelServer server = await ModelServer.StartAsync(ServerReply.Status(503, Overloaded, ("retry-after-ms", "1")));
        var time = new RecordingTimeProvider();
        var assistant = new OpenAiAssistant(new GuardRuntime(time), OpenAiAssistant.Client(server.BaseAddress));

        (string answer, _) = await time.DriveAsync(assistant.AskWithoutWaitingAsync("hi"));

        Assert.Equal("fallback", answer);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task A_hanging_request_is_cut_by_the_attempt_timeout_and_attempted_again()
    {
        await using ModelServer server = await ModelServer.StartAsync(ServerReply.Hang);
        var time = new RecordingTimeProvider();
        var assistant = new OpenAiAssistant(new GuardRuntime(time), OpenAiAssistant.Client(server.BaseAddress));

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
    public async Task A_team_classifier_decides_before_the_built_in_rules()
    {
        await using ModelServer server = await ModelServer.StartAsync(Reply("503"));
        var time = new RecordingTimeProvider();
        var runtime = new GuardRuntime(time)
        {
            FailureClassifier = failure => failure is ClientResultException { Status: 503 } ? FailureClassification.Permanent : FailureClassification.Unknown,
        };
        var assistant = new OpenAiAssistant(runtime, OpenAiAssistant.Client(server.BaseAddress));

        (string answer, _) = await time.DriveAsync(assistant.AskAsync("hi"));

        Assert.Equal("fallback", answer);
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task A_team_classifier_is_asked_once_per_failed_attempt_and_its_retry_after_is_the_delay()
    {
        await using ModelServer server = await ModelServer.StartAsync(Reply("503"));
        var time = new RecordingTimeProvider();
        int asked = 0;
        var runtime = new GuardRuntime(time)
        {
            FailureClassifier = failure =>
            {
                Interlocked.Increment(ref asked);
                return FailureClassification.Transient(TimeSpan.FromSeconds(7));
            },
        };
        var assistant = new OpenAiAssistant(runtime, OpenAiAssistant.Client(server.BaseAddress));

        (string answer, TimeSpan[] delays) = await time.DriveAsync(assistant.AskAsync("hi"));

        Assert.Equal("fallback", answer);
        Assert.Equal(TransientAttempts, server.Requests);
        Assert.Equal(TransientAttempts, Volatile.Read(ref asked));
        Assert.Equal(TransientAttempts - 1, delays.Count(delay => delay == TimeSpan.FromSeconds(7)));
    }

    [Fact]
    public async Task With_the_SDK_retries_left_on_every_attempt_of_the_guard_is_four_requests()
    {
        // The SDK's default ClientRetryPolicy retries a 503 three times by itself (here after the 1 ms the server
        // asks for), inside each of the guard's three attempts: 12 requests for one execution.
        await using ModelServer server = await ModelServer.StartAsync(ServerReply.Status(503, Overloaded, ("retry-after-ms", "1")));
        var time = new RecordingTimeProvider();
        var client = new ChatClient("gpt-4o-mini", new ApiKeyCredential("test-key"), new OpenAI.OpenAIClientOptions { Endpoint = new Uri(server.BaseAddress, "v1") });
        var assistant = new OpenAiAssistant(new GuardRuntime(time), client);

        (string answer, _) = await time.DriveAsync(assistant.AskAsync("hi"));

        Assert.Equal("fallback", answer);
        Assert.Equal(TransientAttempts * 4, server.Requests);
    }

    private const string RateLimited = """{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}""";

    private const string Overloaded = """{"error":{"message":"The engine is currently overloaded","type":"server_error","param":null,"code":null}}""";

    private static ServerReply Reply(string failure) => failure switch
    {
        "429" => ServerReply.Status(429, RateLimited),
        "500" => ServerReply.Status(500, """{"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}"""),
        "503" => ServerReply.Status(503, Overloaded),
        "connection reset" => ServerReply.Reset,
        "400 context length" => ServerReply.Status(400, """{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"""),
        "401" => ServerReply.Status(401, """{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"""),
        "403" => ServerReply.Status(403, """{"error":{"message":"Country, region, or territory not supported","type":"request_forbidden","param":null,"code":"unsupported_country_region_territory"}}"""),
        "404" => ServerReply.Status(404, """{"error":{"message":"The model does not exist","type":"invalid_request_error","param":null,"code":"model_not_found"}}"""),
        "422 content filter" => ServerReply.Status(422, """{"error":{"message":"The response was filtered","type":"invalid_request_error","param":"prompt","code":"content_filter"}}"""),
        "malformed body" => ServerReply.Status(200, """{"id":"chatcmpl-1","choices":[{"index":0,"message":"""),
        _ => throw new ArgumentOutOfRangeException(nameof(failure)),
    };
}
