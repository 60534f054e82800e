using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Infrastructure;
using LlmGuard.Streaming;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Streaming;

/// <summary>A guarded stream: one upstream per key, shared by its consumers from the first item, on the runtime's clock.</summary>
public sealed class SharedStreamTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly TimerAwareFakeTimeProvider _time = new();
    private readonly ScriptedUpstream _upstream = new();

    [Fact]
    public async Task Ten_consumers_of_one_key_share_one_upstream_and_each_gets_every_item()
    {
        GuardedStreamMethodState<string> state = State();
        var firstItems = Enumerable.Range(0, 10).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        Task<List<string>>[] consumers = Enumerable.Range(0, 10)
            .Select(i => Task.Run(() => ReadAllAsync(Stream(state, "k"), firstItems[i])))
            .ToArray();

        _upstream.Yield("a");
        await Task.WhenAll(firstItems.Select(f => f.Task)).WaitAsync(Bound);
        _upstream.Yield("b");
        _upstream.Yield("c");
        _upstream.Complete();

        foreach (List<string> items in await Task.WhenAll(consumers).WaitAsync(Bound))
        {
            Assert.Equal(["a", "b", "c"], items);
        }

        Assert.Equal(1, _upstream.Starts);
        Assert.Equal(0, state.Runtime.InFlightCount);
    }

    [Fact]
    public async Task A_consumer_that_joins_late_gets_every_item_from_the_first()
    {
        GuardedStreamMethodState<string> state = State();
        await using IAsyncEnumerator<string> early = Stream(state, "k").GetAsyncEnumerator();
        _upstream.Yield("a");
        _upstream.Yield("b");
        Assert.Equal(["a", "b"], await TakeAsync(early, 2));

        await using IAsyncEnumerator<string> late = Stream(state, "k").GetAsyncEnumerator();
        Assert.Equal(["a", "b"], await TakeAsync(late, 2));
        _upstream.Yield("c");
        _upstream.Complete();

        Assert.Equal(["c"], await RestAsync(early));
        Assert.Equal(["c"], await RestAsync(late));
        Assert.Equal(1, _upstream.Starts);
    }

    [Fact]
    public async Task A_consumer_that_stops_leaves_alone_and_the_others_get_the_rest()
    {
        GuardedStreamMethodState<string> state = State();
        IAsyncEnumerator<string> quitter = Stream(state, "k").GetAsyncEnumerator();
        await using IAsyncEnumerator<string> stayer = Stream(state, "k").GetAsyncEnumerator();
        _upstream.Yield("a");
        Assert.Equal(["a"], await TakeAsync(quitter, 1));
        Assert.Equal(["a"], await TakeAsync(stayer, 1));

        await quitter.DisposeAsync();
        CancellationToken upstreamToken = await _upstream.NextStartAsync();
        Assert.False(upstreamToken.IsCancellationRequested);

        _upstream.Yield("b");
        _upstream.Complete();
        Assert.Equal(["b"], await RestAsync(stayer));
        Assert.False(upstreamToken.IsCancellationRequested);
    }

    [Fact]
    public async Task When_every_consumer_leaves_the_upstream_is_cancelled_and_the_key_starts_afresh()
    {
        GuardedStreamMethodState<string> state = State();
        IAsyncEnumerator<string> first = Stream(state, "k").GetAsyncEnumerator();
        IAsyncEnumerator<string> second = Stream(state, "k").GetAsyncEnumerator();
        _upstream.Yield("a");
        await TakeAsync(first, 1);
        await TakeAsync(second, 1);

        await first.DisposeAsync();
        Assert.Equal(1, state.Runtime.InFlightCount);
        await second.DisposeAsync();

        await _upstream.Cancelled.WaitAsync(Bound);
        StreamReading.WaitUntilNothingInFlight(state.Runtime);

        await using IAsyncEnumerator<string> again = Stream(state, "k").GetAsyncEnumerator();
        _upstream.Yield("b");
        Assert.Equal(["b"], await TakeAsync(again, 1));
        Assert.Equal(2, _upstream.Starts);
    }

    [Fact]
    public async Task A_call_after_the_stream_ended_starts_a_new_upstream()
    {
        GuardedStreamMethodState<string> state = State();
        _upstream.Yield("a");
        _upstream.Complete();
        Assert.Equal(["a"], await ReadAllAsync(Stream(state, "k")).WaitAsync(Bound));
        Assert.Equal(0, state.Runtime.InFlightCount);

        Assert.Empty(await ReadAllAsync(Stream(state, "k")).WaitAsync(Bound));
        Assert.Equal(2, _upstream.Starts);
    }

    [Fact]
    public async Task A_transient_failure_before_the_first_item_is_retried()
    {
        GuardedStreamMethodState<string> state = State(maxRetries: 1);
        _upstream.Fail(new IOException("connection reset"));
        _upstream.Yield("a");
        _upstream.Complete();

        Assert.Equal(["a"], await ReadAllAsync(Stream(state, "k")).WaitAsync(Bound));
        Assert.Equal(2, _upstream.Starts);
    }

    [Fact]
    public async Task When_every_consumer_leaves_during_a_retry_wait_no_further_attempt_starts()
    {
        GuardedStreamMethodState<string> state = State(maxRetries: 2, retryDelayMs: 1_000);
        using var cancellation = new CancellationTokenSource();
        _upstream.Fail(new IOException("connection reset"));
        Task<List<string>> consumer = ReadAllAsync(state.Stream("k", "k", _upstream.RunAsync, null, cancellation.Token));
        await _time.WhenTimersScheduledAsync().WaitAsync(Bound);

        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => consumer.WaitAsync(Bound));

        Assert.Equal(0, _time.ScheduledTimers);
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, _upstream.Starts);
        StreamReading.WaitUntilNothingInFlight(state.Runtime);
    }

    [Fact]
    public async Task A_permanent_failure_before_the_first_item_reaches_the_consumers_as_it_is()
    {
        GuardedStreamMethodState<string> state = State(maxRetries: 3);
        var failure = new InvalidOperationException("bad request");
        _upstream.Fail(failure);

        InvalidOperationException thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => ReadAllAsync(Stream(state, "k")).WaitAsync(Bound));

        Assert.Same(failure, thrown);
        Assert.Equal(1, _upstream.Starts);
        Assert.Equal(0, state.Runtime.InFlightCount);
    }

    [Fact]
    public async Task The_fallback_streams_the_answer_when_every_attempt_failed_before_the_first_item()
    {
        GuardedStreamMethodState<string> state = State();
        var failure = new InvalidOperationException("bad request");
        Exception? seen = null;
        _upstream.Fail(failure);

        List<string> items = await ReadAllAsync(state.Stream(
            "k",
            "question",
            _upstream.RunAsync,
            (arguments, cause, _) =>
            {
                seen = cause;
                return new[] { arguments + ": fallback" }.ToAsyncEnumerable();
            },
            CancellationToken.None)).WaitAsync(Bound);

        Assert.Equal(["question: fallback"], items);
        Assert.Same(failure, seen);
    }

    [Fact]
    public async Task A_failure_after_the_first_item_reaches_every_consumer_as_an_interruption_without_retry_or_fallback()
    {
        GuardedStreamMethodState<string> state = State(maxRetries: 3);
        bool fellBack = false;
        IAsyncEnumerable<string> WithFallback() => state.Stream(
            "k",
            "question",
            _upstream.RunAsync,
            (_, _, _) =>
            {
                fellBack = true;
                return new[] { "fallback" }.ToAsyncEnumerable();
            },
            CancellationToken.None);

        await using IAsyncEnumerator<string> first = WithFallback().GetAsyncEnumerator();
        await using IAsyncEnumerator<string> second = WithFallback().GetAsyncEnumerator();
        _upstream.Yield("a");
        await TakeAsync(first, 1);
        await TakeAsync(second, 1);
        var failure = new IOException("connection reset");
        _upstream.Fail(failure);

        foreach (IAsyncEnumerator<string> consumer in new[] { first, second })
        {
            LlmStreamInterruptedException interrupted = await Assert.ThrowsAsync<LlmStreamInterruptedException>(() => RestAsync(consumer));
            Assert.Same(failure, interrupted.InnerException);
            Assert.Equal(1, interrupted.ItemsDelivered);
        }

        Assert.Equal(1, _upstream.Starts);
        Assert.False(fellBack);
    }

    [Fact]
    public async Task An_attempt_without_a_first_item_in_time_is_cancelled_and_retried()
    {
        GuardedStreamMethodState<string> state = State(firstItemTimeoutMs: 1_000, maxRetries: 1);
        Task<List<string>> consumer = ReadAllAsync(Stream(state, "k"));
        CancellationToken firstAttempt = await _upstream.NextStartAsync();
        await _time.WhenTimersScheduledAsync().WaitAsync(Bound);

        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(firstAttempt.IsCancellationRequested);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(firstAttempt.IsCancellationRequested);

        await _upstream.NextStartAsync();
        _upstream.Yield("a");
        _upstream.Complete();
        Assert.Equal(["a"], await consumer.WaitAsync(Bound));
    }

    [Fact]
    public async Task Without_a_first_item_in_time_and_no_retry_left_the_consumer_gets_a_timeout()
    {
        GuardedStreamMethodState<string> state = State(firstItemTimeoutMs: 1_000);
        Task<List<string>> consumer = ReadAllAsync(Stream(state, "k"));
        await _time.WhenTimersScheduledAsync().WaitAsync(Bound);

        _time.Advance(TimeSpan.FromSeconds(1));

        await Assert.ThrowsAsync<TimeoutException>(() => consumer.WaitAsync(Bound));
    }

    [Fact]
    public async Task A_stream_idle_past_its_idle_timeout_is_interrupted()
    {
        GuardedStreamMethodState<string> state = State(idleTimeoutMs: 500);
        await using IAsyncEnumerator<string> consumer = Stream(state, "k").GetAsyncEnumerator();
        _upstream.Yield("a");
        await TakeAsync(consumer, 1);
        await _time.WhenTimersScheduledAsync().WaitAsync(Bound);

        _time.Advance(TimeSpan.FromMilliseconds(499));
        _upstream.Yield("b");
        Assert.Equal(["b"], await TakeAsync(consumer, 1));
        await _time.WhenTimersScheduledAsync().WaitAsync(Bound);
        _time.Advance(TimeSpan.FromMilliseconds(500));

        LlmStreamInterruptedException interrupted = await Assert.ThrowsAsync<LlmStreamInterruptedException>(() => RestAsync(consumer));
        Assert.IsType<TimeoutException>(interrupted.InnerException);
        Assert.Equal(2, interrupted.ItemsDelivered);
    }

    [Fact]
    public async Task A_cancelled_consumer_gets_its_own_token_and_the_others_carry_on()
    {
        GuardedStreamMethodState<string> state = State();
        using var callCancellation = new CancellationTokenSource();
        using var enumerationCancellation = new CancellationTokenSource();
        await using IAsyncEnumerator<string> byCall = state.Stream("k", "k", _upstream.RunAsync, null, callCancellation.Token).GetAsyncEnumerator();
        await using IAsyncEnumerator<string> byEnumeration = Stream(state, "k").GetAsyncEnumerator(enumerationCancellation.Token);
        await using IAsyncEnumerator<string> stayer = Stream(state, "k").GetAsyncEnumerator();
        _upstream.Yield("a");
        await TakeAsync(byCall, 1);
        await TakeAsync(byEnumeration, 1);
        await TakeAsync(stayer, 1);

        ValueTask<bool> waiting = byCall.MoveNextAsync();
        callCancellation.Cancel();
        OperationCanceledException byCallCancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await waiting);
        enumerationCancellation.Cancel();
        OperationCanceledException byEnumerationCancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await byEnumeration.MoveNextAsync());

        Assert.Equal(callCancellation.Token, byCallCancelled.CancellationToken);
        Assert.Equal(enumerationCancellation.Token, byEnumerationCancelled.CancellationToken);
        _upstream.Yield("b");
        _upstream.Complete();
        Assert.Equal(["b"], await RestAsync(stayer));
        Assert.Equal(1, _upstream.Starts);
    }

    [Fact]
    public async Task A_consumer_cancelled_before_it_reads_starts_no_upstream()
    {
        GuardedStreamMethodState<string> state = State();
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        OperationCanceledException cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => ReadAllAsync(state.Stream("k", "k", _upstream.RunAsync, null, cancellation.Token)));

        Assert.Equal(cancellation.Token, cancelled.CancellationToken);
        Assert.Equal(0, _upstream.Starts);
        Assert.Equal(0, state.Runtime.InFlightCount);
    }

    private static async Task<List<string>> ReadAllAsync(IAsyncEnumerable<string> stream, TaskCompletionSource? firstItem = null)
    {
        var items = new List<string>();
        await foreach (string item in stream)
        {
            items.Add(item);
            firstItem?.TrySetResult();
        }

        return items;
    }

    private static async Task<List<string>> TakeAsync(IAsyncEnumerator<string> consumer, int count)
    {
        var items = new List<string>();
        for (int i = 0; i < count; i++)
        {
            Assert.True(await consumer.MoveNextAsync().AsTask().WaitAsync(Bound));
            items.Add(consumer.Current);
        }

        return items;
    }

    private static async Task<List<string>> RestAsync(IAsyncEnumerator<string> consumer)
    {
        var items = new List<string>();
        while (await consumer.MoveNextAsync().AsTask().WaitAsync(Bound))
        {
            items.Add(consumer.Current);
        }

        return items;
    }

    private IAsyncEnumerable<string> Stream(GuardedStreamMethodState<string> state, string key) =>
        state.Stream(key, key, _upstream.RunAsync, null, CancellationToken.None);

    private GuardedStreamMethodState<string> State(int firstItemTimeoutMs = 0, int idleTimeoutMs = 0, int maxRetries = 0, int retryDelayMs = 0) =>
        new GuardedStreamMethod<string>("stream", firstItemTimeoutMs, idleTimeoutMs, maxRetries, retryDelayMs).For(new GuardRuntime(_time));
}
