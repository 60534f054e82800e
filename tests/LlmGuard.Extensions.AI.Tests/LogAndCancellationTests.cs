using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace LlmGuard.Extensions.AI.Tests;

/// <summary>What <c>UseLlmGuard()</c> logs about requests it cannot guard fully, and what a caller's token ends.</summary>
public sealed class LogAndCancellationTests
{
    [Fact]
    public async Task A_request_that_cannot_be_keyed_logs_why_without_its_content()
    {
        await using GuardedChat chat = await GuardedChat.StartAsync(
            guard => guard.Scene = "support_chat",
            services => services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Debug).AddFakeLogging()),
            ServerReply.Status(200, GuardedChat.Completion));

        await chat.Chat.GetResponseAsync("Where is my order?", new ChatOptions { RawRepresentationFactory = static _ => null }).Within();

        FakeLogRecord record = Assert.Single(chat.Service<FakeLogCollector>().GetSnapshot(), r => r.Id.Id == 22);
        Assert.Equal(LogLevel.Debug, record.Level);
        Assert.Contains("support_chat", record.Message, StringComparison.Ordinal);
        Assert.Contains("RawRepresentationFactory", record.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Where is my order?", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_streaming_request_the_key_cannot_write_logs_that_it_streams_alone_without_its_messages()
    {
        const string stream = "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
        await using GuardedChat chat = await GuardedChat.StartAsync(
            guard => guard.Scene = "support_chat",
            services => services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Debug).AddFakeLogging()),
            ServerReply.Status(200, stream, ("Content-Type", "text/event-stream")));

        await foreach (ChatResponseUpdate update in chat.Chat.GetStreamingResponseAsync("Where is my order?", new ChatOptions { RawRepresentationFactory = static _ => null }))
        {
            Assert.Equal("hi", update.Text);
        }

        FakeLogRecord record = Assert.Single(chat.Service<FakeLogCollector>().GetSnapshot(), r => r.Id.Id == 22);
        Assert.Contains("support_chat", record.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Where is my order?", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_caller_that_cancels_leaves_alone_and_the_others_get_the_shared_answer()
    {
        var release = new TaskCompletionSource();
        await using GuardedChat chat = await GuardedChat.StartAsync(null, ServerReply.After(release.Task, ServerReply.Status(200, GuardedChat.Completion)));
        using var leaving = new CancellationTokenSource();

        Task<ChatResponse> starter = chat.Chat.GetResponseAsync("Where is my order?", cancellationToken: leaving.Token);
        Task<ChatResponse>[] others = Enumerable.Range(0, 2).Select(_ => chat.Chat.GetResponseAsync("Where is my order?")).ToArray();
        await chat.Server.WaitForRequestsAsync(1);
        await leaving.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => starter.Within());
        release.SetResult();
        ChatResponse[] answers = await Task.WhenAll(others).Within();

        Assert.All(answers, answer => Assert.Equal("hello", answer.Text));
        Assert.Equal(1, chat.Server.Requests);
    }
}
