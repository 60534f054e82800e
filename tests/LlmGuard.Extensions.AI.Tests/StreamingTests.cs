using System;
using System.ClientModel;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Caching;
using LlmGuard.Streaming;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;

namespace LlmGuard.Extensions.AI.Tests;

/// <summary>
/// Streaming requests through <c>UseLlmGuard()</c>, read by the real OpenAI SDK from a loopback server that streams
/// chat-completion chunks: one upstream per key shared by its consumers, each with its own copies, retries before the
/// first update, and the HTTP request aborted once nobody reads it.
/// </summary>
public sealed class StreamingTests
{
    private const string Answer = "Your order left the warehouse today.";

    private const string Overloaded = """{"error":{"message":"The engine is currently overloaded","type":"server_error","param":null,"code":null}}""";

    private const string BadRequest = """{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}""";

    private static readonly string[] s_first = [Chunk("Your order ")];

    private static readonly string[] s_rest =
    [
        Chunk("left the "),
        Chunk("warehouse today."),
        """{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}""",
        """{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}""",
        "[DONE]",
    ];

    [Fact]
    public async Task Concurrent_identical_streaming_requests_share_one_upstream_and_each_gets_every_update()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using GuardedChat chat = await GuardedChat.StartAsync(null, ServerReply.Events(s_first, release.Task, s_rest));

        await using var first = new Consumer(chat.Chat, "Where is my order?");
        await using var second = new Consumer(chat.Chat, "Where is my order?");
        await first.ReadAsync(1);
        await second.ReadAsync(1);
        release.SetResult();

        Assert.Equal(Answer, await first.ReadToEndAsync());
        Assert.Equal(Answer, await second.ReadToEndAsync());
        Assert.Equal(1, chat.Server.Requests);
        Assert.Equal(first.Updates.Count, second.Updates.Count);
        Assert.Equal(11, Assert.Single(second.Updates.SelectMany(update => update.Contents).OfType<UsageContent>()).Details.InputTokenCount);
    }

    [Fact]
    public async Task An_update_one_consumer_changes_reaches_another_consumer_unchanged()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using GuardedChat chat = await GuardedChat.StartAsync(null, ServerReply.Events(s_first, release.Task, s_rest));

        await using var changer = new Consumer(chat.Chat, "Where is my order?");
        await changer.ReadAsync(1);
        changer.Updates[0].Contents.Clear();
        changer.Updates[0].ModelId = "changed";

        // Joins after the change, and reads the first update from the shared stream's replay.
        await using var reader = new Consumer(chat.Chat, "Where is my order?");
        await reader.ReadAsync(1);
        Assert.Equal("Your order ", reader.Updates[0].Text);
        Assert.Equal("gpt-4o-mini", reader.Updates[0].ModelId);

        release.SetResult();
        await changer.ReadToEndAsync();
        UsageDetails changed = changer.Updates.SelectMany(update => update.Contents).OfType<UsageContent>().Single().Details;
        changed.Add(changed);

        Assert.Equal(Answer, await reader.ReadToEndAsync());
        UsageDetails read = reader.Updates.SelectMany(update => update.Contents).OfType<UsageContent>().Single().Details;
        Assert.Equal(22, changed.InputTokenCount);
        Assert.Equal(11, read.InputTokenCount);
        Assert.Equal(1, chat.Server.Requests);
    }

    [Fact]
    public async Task A_consumer_that_leaves_early_does_not_end_the_other_consumers_stream()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using GuardedChat chat = await GuardedChat.StartAsync(null, ServerReply.Events(s_first, release.Task, s_rest));
        var quitter = new Consumer(chat.Chat, "Where is my order?");
        await using var stayer = new Consumer(chat.Chat, "Where is my order?");
        await quitter.ReadAsync(1);
        await stayer.ReadAsync(1);

        await quitter.DisposeAsync();
        release.SetResult();

        Assert.Equal(Answer, await stayer.ReadToEndAsync());
        Assert.Equal(1, chat.Server.Requests);
        Assert.Equal(0, chat.Server.Aborted);
    }

    [Fact]
    public async Task A_consumer_whose_token_is_cancelled_leaves_with_its_own_token_and_the_other_reads_on()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using GuardedChat chat = await GuardedChat.StartAsync(null, ServerReply.Events(s_first, release.Task, s_rest));
        using var leaving = new CancellationTokenSource();
        await using var quitter = new Consumer(chat.Chat, "Where is my order?", leaving.Token);
        await using var stayer = new Consumer(chat.Chat, "Where is my order?");
        await quitter.ReadAsync(1);
        await stayer.ReadAsync(1);

        Task<string> waiting = quitter.ReadToEndAsync();
        await leaving.CancelAsync();
        OperationCanceledException cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        release.SetResult();

        Assert.Equal(leaving.Token, cancelled.CancellationToken);
        Assert.Equal(Answer, await stayer.ReadToEndAsync());
        Assert.Equal(0, chat.Server.Aborted);
    }

    [Fact]
    public async Task When_every_consumer_leaves_the_upstream_http_request_is_aborted()
    {
        var neverReleased = new TaskCompletionSource();
        await using GuardedChat chat = await GuardedChat.StartAsync(null, ServerReply.Events(s_first, neverReleased.Task, s_rest));
        var first = new Consumer(chat.Chat, "Where is my order?");
        var second = new Consumer(chat.Chat, "Where is my order?");
        await first.ReadAsync(1);
        await second.ReadAsync(1);

        // That one consumer leaving does not abort the request is A_consumer_that_leaves_early_does_not_end_the_other_consumers_stream's
        // to prove: an abort is seen by the server later, so a count read here could not fail.
        await first.DisposeAsync();
        await second.DisposeAsync();

        await chat.Server.WaitForAbortsAsync(1);
        Assert.Equal(1, chat.Server.Requests);
    }

    [Fact]
    public async Task A_failure_after_the_first_update_ends_every_consumers_stream_as_interrupted_and_is_not_retried()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using GuardedChat chat = await GuardedChat.StartAsync(null, ServerReply.Events(s_first, release.Task, "{ this chunk is not JSON"));
        await using var first = new Consumer(chat.Chat, "Where is my order?");
        await using var second = new Consumer(chat.Chat, "Where is my order?");
        await first.ReadAsync(1);
        await second.ReadAsync(1);

        release.SetResult();

        LlmStreamInterruptedException firstFailure = await Assert.ThrowsAsync<LlmStreamInterruptedException>(first.ReadToEndAsync);
        LlmStreamInterruptedException secondFailure = await Assert.ThrowsAsync<LlmStreamInterruptedException>(second.ReadToEndAsync);
        Assert.Equal(1, firstFailure.ItemsDelivered);
        Assert.NotSame(firstFailure, secondFailure);
        Assert.Same(firstFailure.InnerException, secondFailure.InnerException);
        Assert.Equal(["Your order "], second.Updates.Select(update => update.Text));
        Assert.Equal(1, chat.Server.Requests);
    }

    [Fact]
    public async Task A_503_before_the_first_update_is_retried_and_the_consumers_get_one_answer()
    {
        await using GuardedChat chat = await GuardedChat.StartAsync(
            guard =>
            {
                guard.Scene = "stream_retry_chat";
                guard.RetryDelayMs = 0;
            },
            ServerReply.Status(503, Overloaded),
            ServerReply.Events(s_first, Task.CompletedTask, s_rest));
        await using var consumer = new Consumer(chat.Chat, "Where is my order?");

        Assert.Equal(Answer, await consumer.ReadToEndAsync());
        Assert.Equal(2, chat.Server.Requests);
    }

    [Fact]
    public async Task A_first_update_that_does_not_come_within_the_timeout_is_retried()
    {
        await using GuardedChat chat = await GuardedChat.StartAsync(
            guard =>
            {
                guard.Scene = "stream_timeout_chat";
                guard.TimeoutMs = 1_000;
                guard.MaxRetries = 1;
                guard.RetryDelayMs = 0;
            },
            ServerReply.Hang,
            ServerReply.Events(s_first, Task.CompletedTask, s_rest));
        await using var consumer = new Consumer(chat.Chat, "Where is my order?");

        Task<string> answer = consumer.ReadToEndAsync();
        await chat.Server.WaitForRequestsAsync(1);
        chat.Time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(1, chat.Server.Requests);
        chat.Time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(Answer, await answer.Within());
        Assert.Equal(2, chat.Server.Requests);
    }

    [Fact]
    public async Task A_permanent_failure_before_the_first_update_is_streamed_from_the_fallback()
    {
        await using GuardedChat chat = await GuardedChat.StartAsync(
            guard =>
            {
                guard.Scene = "stream_fallback_chat";
                guard.Fallback = static (messages, failure, cancellationToken) => ValueTask.FromResult(
                    new ChatResponse(new ChatMessage(ChatRole.Assistant, failure is ClientResultException { Status: 400 } ? "An agent will answer shortly." : "unexpected")));
            },
            ServerReply.Status(400, BadRequest));
        await using var consumer = new Consumer(chat.Chat, "Where is my order?");

        Assert.Equal("An agent will answer shortly.", await consumer.ReadToEndAsync());
        Assert.Equal(1, chat.Server.Requests);
    }

    [Fact]
    public async Task Streaming_requests_with_different_messages_each_have_their_own_upstream()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using GuardedChat chat = await GuardedChat.StartAsync(null, ServerReply.Events(s_first, release.Task, s_rest));
        await using var order = new Consumer(chat.Chat, "Where is my order?");
        await using var refund = new Consumer(chat.Chat, "Where is my refund?");

        await order.ReadAsync(1);
        await refund.ReadAsync(1);
        await chat.Server.WaitForRequestsAsync(2);
        release.SetResult();

        Assert.Equal(Answer, await order.ReadToEndAsync());
        Assert.Equal(Answer, await refund.ReadToEndAsync());
        Assert.Equal(2, chat.Server.Requests);
        Assert.Single(chat.Server.Bodies, body => body.Contains("Where is my order?", StringComparison.Ordinal));
        Assert.Single(chat.Server.Bodies, body => body.Contains("Where is my refund?", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Identical_streaming_requests_the_key_cannot_write_stream_alone()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using GuardedChat chat = await GuardedChat.StartAsync(null, ServerReply.Events(s_first, release.Task, s_rest));
        var opaque = new ChatOptions { RawRepresentationFactory = static _ => null };
        await using var first = new Consumer(chat.Chat, "Where is my order?", options: opaque);
        await using var second = new Consumer(chat.Chat, "Where is my order?", options: opaque);

        await first.ReadAsync(1);
        await second.ReadAsync(1);
        await chat.Server.WaitForRequestsAsync(2);
        release.SetResult();

        Assert.Equal(Answer, await first.ReadToEndAsync());
        Assert.Equal(Answer, await second.ReadToEndAsync());
        Assert.Equal(2, chat.Server.Requests);
    }

    [Fact]
    public async Task A_streamed_usage_is_recorded_once_and_a_joined_consumer_counts_the_upstreams_tokens_as_saved()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using GuardedChat chat = await GuardedChat.StartAsync(
            guard => guard.Scene = "stream_usage_chat", ServerReply.Events(s_first, release.Task, s_rest));
        using MetricCollector<long> calls = chat.Collect<long>("llmguard.calls");
        using MetricCollector<long> tokens = chat.Collect<long>("gen_ai.client.token.usage");
        using MetricCollector<long> saved = chat.Collect<long>("llmguard.tokens.saved");
        var starter = new Consumer(chat.Chat, "Where is my order?");
        var joiner = new Consumer(chat.Chat, "Where is my order?");
        await starter.ReadAsync(1);
        await joiner.ReadAsync(1);

        release.SetResult();
        Assert.Equal(Answer, await starter.ReadToEndAsync());
        Assert.Equal(Answer, await joiner.ReadToEndAsync());
        await starter.DisposeAsync();
        await joiner.DisposeAsync();

        Assert.Equal(
            ["input=11 gpt-4o-mini", "output=7 gpt-4o-mini"],
            tokens.GetMeasurementSnapshot().Select(m => $"{m.Tags["gen_ai.token.type"]}={m.Value} {m.Tags["gen_ai.request.model"]}").Order());
        Assert.Equal(
            ["executed/success", "joined/success"],
            calls.GetMeasurementSnapshot().Select(m => $"{m.Tags["llmguard.outcome"]}/{m.Tags["llmguard.result"]}").Order());
        Assert.Equal(18, saved.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public async Task A_scenes_configured_FirstItemTimeoutMs_replaces_the_clients_timeout_for_the_first_update()
    {
        IConfiguration configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["LlmGuard:Scenes:stream_configured_chat:FirstItemTimeoutMs"] = "500" })
            .Build();
        await using GuardedChat chat = await GuardedChat.StartAsync(
            guard =>
            {
                guard.Scene = "stream_configured_chat";
                guard.MaxRetries = 1;
                guard.RetryDelayMs = 0;
            },
            services => services.AddSingleton(configuration),
            ServerReply.Hang,
            ServerReply.Events(s_first, Task.CompletedTask, s_rest));
        await using var consumer = new Consumer(chat.Chat, "Where is my order?");

        // The client's TimeoutMs is 30 s: only the configuration ends the first attempt at 500 ms.
        Task<string> answer = consumer.ReadToEndAsync();
        await chat.Server.WaitForRequestsAsync(1);
        chat.Time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.Equal(1, chat.Server.Requests);
        chat.Time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(Answer, await answer.Within());
        Assert.Equal(2, chat.Server.Requests);
    }

    [Fact]
    public async Task A_stream_quiet_for_longer_than_IdleTimeoutMs_after_its_first_update_ends_as_interrupted()
    {
        var neverReleased = new TaskCompletionSource();
        var clock = new TimerWatchingClock();
        await using GuardedChat chat = await GuardedChat.StartAsync(
            guard =>
            {
                guard.Scene = "stream_idle_chat";
                guard.IdleTimeoutMs = 2_000;
            },
            services => services.AddSingleton<TimeProvider>(clock),
            ServerReply.Events(s_first, neverReleased.Task, s_rest));
        await using var consumer = new Consumer(chat.Chat, "Where is my order?");
        await consumer.ReadAsync(1);

        // The idle deadline is armed once the upstream waits for its second update, which may be after the consumer
        // read the first: the clock moves only once it is, by the client's 30 s first-update deadline never.
        Task<string> rest = consumer.ReadToEndAsync();
        await clock.AdvanceTimersUntilAsync(rest, due => due == TimeSpan.FromMilliseconds(2_000), TimeSpan.FromSeconds(10));

        LlmStreamInterruptedException interrupted = await Assert.ThrowsAsync<LlmStreamInterruptedException>(() => rest.Within());
        Assert.Equal(1, interrupted.ItemsDelivered);
        Assert.IsType<TimeoutException>(interrupted.InnerException);
        Assert.Equal(1, chat.Server.Requests);
    }

    [Fact]
    public async Task A_completed_stream_answers_a_later_identical_streaming_request_from_the_cache_without_an_HTTP_request()
    {
        await using GuardedChat chat = await GuardedChat.StartAsync(CachedStream, ServerReply.Events(s_first, Task.CompletedTask, s_rest));
        using MetricCollector<long> calls = chat.Collect<long>("llmguard.calls");
        await using var first = new Consumer(chat.Chat, "Where is my order?");
        await using var second = new Consumer(chat.Chat, "Where is my order?");

        Assert.Equal(Answer, await first.ReadToEndAsync());
        Assert.Equal(Answer, await second.ReadToEndAsync());

        Assert.Equal(1, chat.Server.Requests);
        Assert.Equal(first.Updates.Count, second.Updates.Count);
        Assert.Equal(11, Assert.Single(second.Updates.SelectMany(update => update.Contents).OfType<UsageContent>()).Details.InputTokenCount);
        Assert.Equal(["executed", "cached"], calls.GetMeasurementSnapshot().Select(m => (string)m.Tags["llmguard.outcome"]!));
    }

    [Fact]
    public async Task A_stream_stored_in_the_distributed_cache_by_one_process_answers_another_through_AIJsonUtilities_contracts()
    {
        var shared = new SharedCache(new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions())));
        void Register(IServiceCollection services)
        {
            services.AddSingleton<IDistributedCache>(shared);
            services.AddHybridCache().AddSerializerFactory(new LlmGuardCacheSerializerFactory(AIJsonUtilities.DefaultOptions.TypeInfoResolver!));
        }

        await using GuardedChat first = await GuardedChat.StartAsync(CachedStream, Register, ServerReply.Events(s_first, Task.CompletedTask, s_rest));
        await using GuardedChat second = GuardedChat.BesideOf(first, CachedStream, Register);
        await using var writer = new Consumer(first.Chat, "Where is my order?");
        await using var reader = new Consumer(second.Chat, "Where is my order?");

        Assert.Equal(Answer, await writer.ReadToEndAsync());
        Assert.Equal(Answer, await reader.ReadToEndAsync());

        Assert.Equal(1, first.Server.Requests);
        Assert.Equal(writer.Updates.Count, reader.Updates.Count);
        UsageContent usage = Assert.Single(reader.Updates.SelectMany(update => update.Contents).OfType<UsageContent>());
        Assert.Equal(7, usage.Details.OutputTokenCount);
        Assert.Equal("gpt-4o-mini", reader.Updates[0].ModelId);
    }

    [Fact]
    public async Task A_cached_stream_crosses_the_distributed_cache_without_reflection_with_a_context_that_declares_the_update_array()
    {
        // What a native AOT app has: Microsoft.Extensions.AI's source-generated contracts without the reflection
        // fallback DefaultOptions adds when reflection is on. They declare ChatResponseUpdate but not the array a
        // completed stream is stored as; the application's context declares that, and the rest resolves through the chain.
        IJsonTypeInfoResolver generated = AIJsonUtilities.DefaultOptions.TypeInfoResolverChain[0];
        Assert.False(new JsonSerializerOptions { TypeInfoResolver = generated }.TryGetTypeInfo(typeof(ChatResponseUpdate[]), out _));
        var shared = new SharedCache(new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions())));
        void Register(IServiceCollection services)
        {
            services.AddSingleton<IDistributedCache>(shared);
            services.AddHybridCache().AddSerializerFactory(new LlmGuardCacheSerializerFactory(JsonTypeInfoResolver.Combine(generated, StreamCacheJsonContext.Default)));
        }

        await using GuardedChat first = await GuardedChat.StartAsync(CachedStream, Register, ServerReply.Events(s_first, Task.CompletedTask, s_rest));
        await using GuardedChat second = GuardedChat.BesideOf(first, CachedStream, Register);
        await using var writer = new Consumer(first.Chat, "Where is my order?");
        await using var reader = new Consumer(second.Chat, "Where is my order?");

        Assert.Equal(Answer, await writer.ReadToEndAsync());
        Assert.Equal(Answer, await reader.ReadToEndAsync());

        Assert.Equal(1, first.Server.Requests);
        Assert.Equal(7, Assert.Single(reader.Updates.SelectMany(update => update.Contents).OfType<UsageContent>()).Details.OutputTokenCount);
    }

    [Fact]
    public async Task A_streamed_answer_and_a_response_of_one_request_are_cached_apart()
    {
        await using GuardedChat chat = await GuardedChat.StartAsync(
            CachedStream, ServerReply.Events(s_first, Task.CompletedTask, s_rest), ServerReply.Status(200, GuardedChat.Completion));
        await using var streamed = new Consumer(chat.Chat, "Where is my order?");

        Assert.Equal(Answer, await streamed.ReadToEndAsync());
        ChatResponse response = await chat.Chat.GetResponseAsync("Where is my order?").Within();

        Assert.Equal("hello", response.Text);
        Assert.Equal(2, chat.Server.Requests);
    }

    [Fact]
    public void Stream_settings_out_of_their_range_are_refused_when_the_pipeline_is_built()
    {
        var builder = new ChatClientBuilder(new OpenAI.Chat.ChatClient("gpt-4o-mini", "test-key").AsIChatClient());

        Assert.Throws<ArgumentOutOfRangeException>(() => builder.UseLlmGuard(configure: guard => { guard.Scene = "stream_range_chat"; guard.StreamReplayItems = 0; }));
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.UseLlmGuard(configure: guard => { guard.Scene = "stream_range_chat"; guard.FirstItemTimeoutMs = 5; }));
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.UseLlmGuard(configure: guard => { guard.Scene = "stream_range_chat"; guard.IdleTimeoutMs = -1; }));
    }

    // A scene of its own: one UseLlmGuard() scene has one set of settings in a process.
    private static void CachedStream(LlmGuardChatClientOptions guard)
    {
        guard.Scene = "cached_stream_chat";
        guard.CacheSeconds = 600;
    }

    private static string Chunk(string text) =>
        $$"""{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"{{text}}"},"finish_reason":null}],"usage":null}""";

    /// <summary>One caller reading a streaming request update by update, each read bounded in real time.</summary>
    private sealed class Consumer : IAsyncDisposable
    {
        private readonly IAsyncEnumerator<ChatResponseUpdate> _updates;
        private bool _disposed;

        public Consumer(IChatClient chat, string question, CancellationToken cancellationToken = default, ChatOptions? options = null)
        {
            _updates = chat.GetStreamingResponseAsync(question, options, cancellationToken).GetAsyncEnumerator(CancellationToken.None);
        }

        public List<ChatResponseUpdate> Updates { get; } = [];

        /// <summary>Reads <paramref name="count"/> more updates.</summary>
        public async Task ReadAsync(int count)
        {
            for (int i = 0; i < count; i++)
            {
                Assert.True(await _updates.MoveNextAsync().AsTask().Within());
                Updates.Add(_updates.Current);
            }
        }

        /// <summary>Reads the rest of the stream and returns the text of every update read.</summary>
        public async Task<string> ReadToEndAsync()
        {
            // Bounded: the scripted streams have a handful of updates.
            for (int i = 0; i < 100 && await _updates.MoveNextAsync().AsTask().Within(); i++)
            {
                Updates.Add(_updates.Current);
            }

            var text = new StringBuilder();
            foreach (ChatResponseUpdate update in Updates)
            {
                text.Append(update.Text);
            }

            return text.ToString();
        }

        public async ValueTask DisposeAsync()
        {
            if (!_disposed)
            {
                _disposed = true;
                await _updates.DisposeAsync();
            }
        }
    }
}

/// <summary>The contract a completed stream of <c>UseLlmGuard()</c> is cached as, declared as a native AOT app declares it.</summary>
[JsonSerializable(typeof(ChatResponseUpdate[]))]
internal sealed partial class StreamCacheJsonContext : JsonSerializerContext;
