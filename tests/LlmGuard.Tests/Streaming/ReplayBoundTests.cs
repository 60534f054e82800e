using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Infrastructure;
using LlmGuard.Streaming;
using LlmGuard.Tests.Fakes;
using static LlmGuard.Tests.Streaming.StreamReading;

namespace LlmGuard.Tests.Streaming;

/// <summary>The replay buffer keeps at most StreamReplayItems items; what happens to late and slow consumers past it.</summary>
public sealed class ReplayBoundTests
{
    private readonly TimerAwareFakeTimeProvider _time = new();
    private readonly ScriptedUpstream _upstream = new();

    [Fact]
    public async Task A_consumer_that_joins_while_nothing_was_dropped_gets_every_item_from_the_first()
    {
        GuardedStreamMethodState<string> state = State(replayItems: 3);
        await using IAsyncEnumerator<string> early = Stream(state, "k", _upstream).GetAsyncEnumerator();
        Task<List<string>> read = TakeAsync(early, 3);
        _upstream.Yield("a");
        _upstream.Yield("b");
        _upstream.Yield("c");
        Assert.Equal(["a", "b", "c"], await read);

        await using IAsyncEnumerator<string> late = Stream(state, "k", _upstream).GetAsyncEnumerator();
        Assert.Equal(["a", "b", "c"], await TakeAsync(late, 3));
        _upstream.Complete();

        Assert.Empty(await RestAsync(early));
        Assert.Empty(await RestAsync(late));
        Assert.Equal(1, _upstream.Starts);
    }

    [Fact]
    public async Task A_caller_that_arrives_after_the_first_item_was_dropped_starts_a_new_upstream()
    {
        GuardedStreamMethodState<string> state = State(replayItems: 2);
        await using IAsyncEnumerator<string> early = Stream(state, "k", _upstream).GetAsyncEnumerator();
        foreach (string item in new[] { "a", "b", "c" })
        {
            await YieldAndReadAsync(early, item);
        }

        var second = new ScriptedUpstream();
        await using IAsyncEnumerator<string> late = Stream(state, "k", second).GetAsyncEnumerator();
        Task<List<string>> lateRead = RestAsync(late);
        await second.NextStartAsync();
        second.Yield("x");
        second.Complete();
        _upstream.Complete();

        Assert.Equal(["x"], await lateRead);
        Assert.Empty(await RestAsync(early));
        Assert.Equal((1, 1), (_upstream.Starts, second.Starts));
        Assert.Equal(0, state.Runtime.InFlightCount);
    }

    [Fact]
    public async Task A_consumer_more_than_the_bound_behind_overflows_while_a_fast_one_completes()
    {
        GuardedStreamMethodState<string> state = State(replayItems: 2);
        await using IAsyncEnumerator<string> fast = Stream(state, "k", _upstream).GetAsyncEnumerator();
        await using IAsyncEnumerator<string> slow = Stream(state, "k", _upstream).GetAsyncEnumerator();
        Task<List<string>> fastFirst = TakeAsync(fast, 1);
        Task<List<string>> slowFirst = TakeAsync(slow, 1);
        _upstream.Yield("a");
        Assert.Equal(["a"], await fastFirst);
        Assert.Equal(["a"], await slowFirst);

        // The slow consumer's next item is "b"; the buffer still holds it until a fourth item pushes it out.
        foreach (string item in new[] { "b", "c", "d" })
        {
            await YieldAndReadAsync(fast, item);
        }

        LlmStreamOverflowException overflow = await Assert.ThrowsAsync<LlmStreamOverflowException>(() => RestAsync(slow));
        Assert.Equal(1, overflow.ItemsDelivered);

        _upstream.Yield("e");
        _upstream.Complete();
        Assert.Equal(["e"], await RestAsync(fast));
        Assert.Equal(1, _upstream.Starts);
    }

    [Fact]
    public async Task A_consumer_exactly_the_bound_behind_still_reads_every_item()
    {
        GuardedStreamMethodState<string> state = State(replayItems: 2);
        await using IAsyncEnumerator<string> fast = Stream(state, "k", _upstream).GetAsyncEnumerator();
        await using IAsyncEnumerator<string> slow = Stream(state, "k", _upstream).GetAsyncEnumerator();
        Task<List<string>> slowFirst = TakeAsync(slow, 1);
        await YieldAndReadAsync(fast, "a");
        Assert.Equal(["a"], await slowFirst);
        await YieldAndReadAsync(fast, "b");
        await YieldAndReadAsync(fast, "c");
        _upstream.Complete();

        Assert.Equal(["b", "c"], await RestAsync(slow));
    }

    [Fact]
    public async Task Each_enumeration_of_an_unshared_stream_starts_its_own_upstream_that_no_call_joins_but_the_runtime_counts_in_flight()
    {
        GuardedStreamMethodState<string> state = State();
        var other = new ScriptedUpstream();
        await using IAsyncEnumerator<string> first = state.StreamUnshared("k", _upstream.RunAsync, null, CancellationToken.None).GetAsyncEnumerator();
        await using IAsyncEnumerator<string> second = state.StreamUnshared("k", other.RunAsync, null, CancellationToken.None).GetAsyncEnumerator();
        Task<List<string>> firstRead = RestAsync(first);
        Task<List<string>> secondRead = RestAsync(second);
        await _upstream.NextStartAsync();
        await other.NextStartAsync();
        Assert.Equal(2, state.Runtime.InFlightCount);

        _upstream.Yield("a");
        _upstream.Complete();
        other.Yield("b");
        other.Complete();

        Assert.Equal(["a"], await firstRead);
        Assert.Equal(["b"], await secondRead);
        Assert.Equal((1, 1), (_upstream.Starts, other.Starts));
        Assert.Equal(0, state.Runtime.InFlightCount);
    }

    [Fact]
    public async Task An_unshared_stream_whose_consumer_is_cancelled_cancels_its_upstream()
    {
        GuardedStreamMethodState<string> state = State();
        using var cancellation = new CancellationTokenSource();
        await using IAsyncEnumerator<string> consumer = state.StreamUnshared("k", _upstream.RunAsync, null, cancellation.Token).GetAsyncEnumerator();
        Task<List<string>> read = RestAsync(consumer);
        CancellationToken upstream = await _upstream.NextStartAsync();

        cancellation.Cancel();

        await Assert.ThrowsAnyAsync<System.OperationCanceledException>(() => read);
        await _upstream.Cancelled.WaitAsync(Bound);
        Assert.True(upstream.IsCancellationRequested);
    }

    // One item at a time: the upstream never waits for its consumers, so a test that queued several items at once
    // would race the buffer's bound.
    private async Task YieldAndReadAsync(IAsyncEnumerator<string> consumer, string item)
    {
        Task<List<string>> next = TakeAsync(consumer, 1);
        _upstream.Yield(item);
        Assert.Equal([item], await next);
    }

    private static IAsyncEnumerable<string> Stream(GuardedStreamMethodState<string> state, string key, ScriptedUpstream upstream) =>
        state.Stream(key, key, upstream.RunAsync, null, CancellationToken.None);

    private GuardedStreamMethodState<string> State(int replayItems = GuardedAttribute.DefaultStreamReplayItems) =>
        new GuardedStreamMethod<string>("replay", 0, 0, 0, 0, replayItems: replayItems).For(new GuardRuntime(_time));
}
