using System;
using System.Linq;
using System.ClientModel;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Protection;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Polly.Timeout;

namespace LlmGuard.Extensions.AI.Tests;

/// <summary>
/// The runtime's attempts around each request through <c>UseLlmGuard()</c>: the same classification, Retry-After and
/// timeout as a guarded method's, and the scene's configuration over the code's settings.
/// </summary>
public sealed class ResilienceTests
{
    private const string RateLimited = """{"error":{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}}""";

    private const string BadRequest = """{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""";

    private const string Overloaded = """{"error":{"message":"The engine is currently overloaded","type":"server_error","param":null,"code":null}}""";

    [Fact]
    public async Task A_429_is_retried_after_exactly_the_Retry_After_it_asks_for()
    {
        // No attempt timeout: the only timers are the retry delays, which the clock advances through.
        await using GuardedChat chat = await GuardedChat.StartAsync(
            guard =>
            {
                guard.Scene = "untimed_chat";
                guard.TimeoutMs = 0;
            },
            ServerReply.Status(429, RateLimited, ("Retry-After", "3")),
            ServerReply.Status(200, GuardedChat.Completion));

        (ChatResponse response, TimeSpan[] delays) = await chat.Time.DriveAsync(chat.Chat.GetResponseAsync("Where is my order?"));

        Assert.Equal("hello", response.Text);
        Assert.Equal([TimeSpan.FromSeconds(3)], delays);
        Assert.Equal(2, chat.Server.Requests);
    }

    [Fact]
    public async Task A_400_is_not_retried_and_reaches_the_caller()
    {
        await using GuardedChat chat = await GuardedChat.StartAsync(
            guard =>
            {
                guard.Scene = "untimed_chat";
                guard.TimeoutMs = 0;
            },
            ServerReply.Status(400, BadRequest));

        ClientResultException failure = await Assert.ThrowsAsync<ClientResultException>(() => chat.Chat.GetResponseAsync("Where is my order?").Within());

        Assert.Equal(400, failure.Status);
        Assert.Equal(1, chat.Server.Requests);
    }

    [Fact]
    public async Task A_hanging_request_is_cut_by_the_attempt_timeout()
    {
        await using GuardedChat chat = await GuardedChat.StartAsync(
            guard =>
            {
                guard.Scene = "short_timeout_chat";
                guard.TimeoutMs = 1_000;
                guard.MaxRetries = 0;
            },
            ServerReply.Hang);

        Task<ChatResponse> call = chat.Chat.GetResponseAsync("Where is my order?");
        await chat.Server.WaitForRequestsAsync(1);
        chat.Time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(call.IsCompleted);
        chat.Time.Advance(TimeSpan.FromMilliseconds(1));

        await Assert.ThrowsAsync<TimeoutRejectedException>(() => call.Within());
        Assert.Equal(1, chat.Server.Requests);
    }

    [Fact]
    public async Task The_scenes_configuration_overrides_the_settings_in_code()
    {
        // Code asks for two retries; configuration of the scene turns them off.
        await using GuardedChat chat = await GuardedChat.StartAsync(
            guard =>
            {
                guard.Scene = "configured_chat";
                guard.TimeoutMs = 0;
            },
            options => options.Scenes["configured_chat"] = new LlmSceneOptions { MaxRetries = 0 },
            ServerReply.Status(503, Overloaded));

        ClientResultException failure = await Assert.ThrowsAsync<ClientResultException>(() => chat.Chat.GetResponseAsync("Where is my order?").Within());

        Assert.Equal(503, failure.Status);
        Assert.Equal(1, chat.Server.Requests);
    }

    [Fact]
    public async Task The_fallback_answers_when_the_attempts_fail_is_counted_and_is_never_cached()
    {
        await using GuardedChat chat = await GuardedChat.StartAsync(
            guard =>
            {
                guard.Scene = "fallback_chat";
                guard.TimeoutMs = 0;
                guard.MaxRetries = 0;
                guard.CacheSeconds = 600;
                guard.Fallback = static (messages, failure, _) => new ValueTask<ChatResponse>(
                    new ChatResponse(new ChatMessage(ChatRole.Assistant, $"busy ({((ClientResultException)failure).Status}, {messages.Count} message)")));
            },
            ServerReply.Status(503, Overloaded));
        using MetricCollector<long> calls = chat.Collect<long>("llmguard.calls");

        ChatResponse first = await chat.Chat.GetResponseAsync("Where is my order?").Within();
        ChatResponse second = await chat.Chat.GetResponseAsync("Where is my order?").Within();

        Assert.Equal("busy (503, 1 message)", first.Text);
        Assert.Equal("busy (503, 1 message)", second.Text);
        Assert.Equal(2, chat.Server.Requests);
        Assert.Equal(["executed/fallback", "executed/fallback"], calls.GetMeasurementSnapshot().Select(m => $"{m.Tags["llmguard.outcome"]}/{m.Tags["llmguard.result"]}"));
    }

    [Fact]
    public async Task The_scenes_circuit_breaker_refuses_requests_without_sending_them_once_it_opened()
    {
        // The middleware's scene gets the same protection as a guarded method's, from the same configuration.
        await using GuardedChat chat = await GuardedChat.StartAsync(
            guard =>
            {
                guard.Scene = "breaker_chat";

                // A breaker needs an attempt timeout, or a hung probe would hold it half-open; the 503s come at once.
                guard.TimeoutMs = 60_000;
                guard.MaxRetries = 0;
            },
            options => options.Scenes["breaker_chat"] = new LlmSceneOptions { BreakerFailureRatio = 0.5, BreakerMinimumThroughput = 2, BreakerBreakMs = 30_000 },
            ServerReply.Status(503, Overloaded));
        using MetricCollector<long> rejections = chat.Collect<long>("llmguard.rejections");

        await Assert.ThrowsAsync<ClientResultException>(() => chat.Chat.GetResponseAsync("Where is my order?").Within());
        await Assert.ThrowsAsync<ClientResultException>(() => chat.Chat.GetResponseAsync("Where is my refund?").Within());
        LlmCircuitOpenException refused = await Assert.ThrowsAsync<LlmCircuitOpenException>(() => chat.Chat.GetResponseAsync("Where is my parcel?").Within());

        Assert.Equal("breaker_chat", refused.Scene);
        Assert.Equal(2, chat.Server.Requests);
        Assert.Equal("breaker", Assert.Single(rejections.GetMeasurementSnapshot()).Tags["llmguard.rejection.reason"]);
    }
}
