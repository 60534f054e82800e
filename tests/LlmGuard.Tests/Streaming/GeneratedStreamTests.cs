using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Tests.Streaming;

/// <summary>A [Guarded] method returning IAsyncEnumerable&lt;T&gt;, through the code the generator writes for it.</summary>
public sealed partial class GeneratedStreamTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Two_consumers_of_one_key_share_one_upstream_and_each_gets_every_item()
    {
        var assistant = new StreamingAssistant(new GuardRuntime());
        await using IAsyncEnumerator<string> first = assistant.AnswerAsync("ticket-1", "why?", CancellationToken.None).GetAsyncEnumerator();
        ValueTask<bool> firstMove = first.MoveNextAsync();
        await assistant.Started.Task.WaitAsync(Bound);

        await using IAsyncEnumerator<string> second = assistant.AnswerAsync("ticket-1", "why?", CancellationToken.None).GetAsyncEnumerator();
        ValueTask<bool> secondMove = second.MoveNextAsync();
        assistant.Release.SetResult();

        Assert.True(await firstMove.AsTask().WaitAsync(Bound));
        Assert.True(await secondMove.AsTask().WaitAsync(Bound));
        Assert.Equal(["ticket-1", "why?", "done"], await ReadAsync(first));
        Assert.Equal(["ticket-1", "why?", "done"], await ReadAsync(second));
        Assert.Equal(1, assistant.Starts);
    }

    [Fact]
    public async Task Consumers_of_different_keys_run_their_own_upstreams()
    {
        var assistant = new StreamingAssistant(new GuardRuntime());
        assistant.Release.SetResult();

        List<string> one = await ReadAllAsync(assistant.AnswerAsync("ticket-1", "a", CancellationToken.None));
        List<string> two = await ReadAllAsync(assistant.AnswerAsync("ticket-2", "a", CancellationToken.None));

        Assert.Equal(["ticket-1", "a", "done"], one);
        Assert.Equal(["ticket-2", "a", "done"], two);
        Assert.Equal(2, assistant.Starts);
    }

    // The first item was already read by the caller's MoveNextAsync.
    private static async Task<List<string>> ReadAsync(IAsyncEnumerator<string> items)
    {
        var read = new List<string> { items.Current };
        while (await items.MoveNextAsync().AsTask().WaitAsync(Bound))
        {
            read.Add(items.Current);
        }

        return read;
    }

    private static async Task<List<string>> ReadAllAsync(IAsyncEnumerable<string> items)
    {
        var read = new List<string>();
        await foreach (string item in items.WithCancellation(CancellationToken.None))
        {
            read.Add(item);
        }

        return read;
    }

    private sealed partial class StreamingAssistant(GuardRuntime runtime)
    {
        private int _starts;

        private readonly GuardRuntime _runtime = runtime;

        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Starts => Volatile.Read(ref _starts);

        [Guarded(Scene = "generated-stream", Key = "{ticketId}:{question}", TimeoutMs = 5000)]
        public partial IAsyncEnumerable<string> AnswerAsync(string ticketId, string question, CancellationToken cancellationToken);

        private async IAsyncEnumerable<string> AnswerCoreAsync(string ticketId, string question, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _starts);
            Started.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            yield return ticketId;
            yield return question;
            yield return "done";
        }
    }
}
