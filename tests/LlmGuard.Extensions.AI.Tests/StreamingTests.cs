using System;
using System.ClientModel;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Streaming;
using Microsoft.Extensions.AI;

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

        await first.DisposeAsync();
        Assert.Equal(0, chat.Server.Aborted);
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
