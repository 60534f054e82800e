using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Infrastructure;
using LlmGuard.Protection;
using LlmGuard.Streaming;
using LlmGuard.Tests.Fakes;
using static LlmGuard.Tests.Streaming.StreamReading;

namespace LlmGuard.Tests.Streaming;

/// <summary>A stream's execution runs under its scene's limits and breaker, from its first attempt to its upstream's end.</summary>
public sealed class StreamProtectionTests
{
    private const string Scene = "stream_protection";
    private readonly TimerAwareFakeTimeProvider _time = new();

    [Fact]
    public async Task With_MaxConcurrency_1_a_second_key_is_refused_while_the_first_streams_and_runs_after_it_ended()
    {
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, 0, 0, 0, 0, maxConcurrency: 1).For(new GuardRuntime(_time));
        var first = new ScriptedUpstream();
        var second = new ScriptedUpstream();
        await using IAsyncEnumerator<string> streaming = state.Stream("a", "a", first.RunAsync, null, CancellationToken.None).GetAsyncEnumerator();
        Task<List<string>> firstItem = TakeAsync(streaming, 1);
        first.Yield("a1");
        Assert.Equal(["a1"], await firstItem);

        LlmLimitExceededException refused = await Assert.ThrowsAsync<LlmLimitExceededException>(
            () => ReadAllAsync(state.Stream("b", "b", second.RunAsync, null, CancellationToken.None)).WaitAsync(Bound));
        Assert.Equal(LlmLimitExceededException.Concurrency, refused.Limit);
        Assert.Equal(0, second.Starts);

        // The permit is held until the upstream ends, not until its first item.
        first.Complete();
        Assert.Empty(await RestAsync(streaming));
        Task<List<string>> after = ReadAllAsync(state.Stream("b", "b", second.RunAsync, null, CancellationToken.None));
        await second.NextStartAsync();
        second.Yield("b1");
        second.Complete();
        Assert.Equal(["b1"], await after.WaitAsync(Bound));
    }

    [Fact]
    public async Task With_a_queue_a_second_key_waits_for_the_first_stream_to_end()
    {
        var runtime = new GuardRuntime(_time) { Options = Options(new LlmSceneOptions { MaxConcurrency = 1, MaxQueue = 1 }) };
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, 0, 0, 0, 0).For(runtime);
        var first = new ScriptedUpstream();
        var second = new ScriptedUpstream();
        await using IAsyncEnumerator<string> streaming = state.Stream("a", "a", first.RunAsync, null, CancellationToken.None).GetAsyncEnumerator();
        Task<List<string>> firstItem = TakeAsync(streaming, 1);
        first.Yield("a1");
        Assert.Equal(["a1"], await firstItem);

        Task<List<string>> queued = ReadAllAsync(state.Stream("b", "b", second.RunAsync, null, CancellationToken.None));
        Task<CancellationToken> secondStart = second.NextStartAsync();
        WaitUntilQueued(state, 1);

        // The queue is full: a third key is refused at once, and the queued one has not started.
        LlmLimitExceededException refused = await Assert.ThrowsAsync<LlmLimitExceededException>(
            () => ReadAllAsync(state.Stream("c", "c", second.RunAsync, null, CancellationToken.None)).WaitAsync(Bound));
        Assert.Equal(LlmLimitExceededException.Concurrency, refused.Limit);
        first.Yield("a2");
        Assert.Equal(["a2"], await TakeAsync(streaming, 1));
        Assert.False(secondStart.IsCompleted);

        first.Complete();
        await secondStart;
        second.Yield("b1");
        second.Complete();
        Assert.Equal(["b1"], await queued.WaitAsync(Bound));
    }

    [Fact]
    public async Task The_breaker_opens_after_failing_streams_and_refuses_the_next_before_any_attempt()
    {
        var runtime = new GuardRuntime(_time)
        {
            Options = Options(new LlmSceneOptions { BreakerFailureRatio = 0.5, BreakerMinimumThroughput = 2, TimeoutMs = 60_000 }),
        };
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, 0, 0, 0, 0).For(runtime);
        int starts = 0;

        // One fails before its first item, one after it: the breaker counts the whole execution's outcome.
        await Assert.ThrowsAsync<InvalidOperationException>(() => ReadAllAsync(state.Stream("a", 0, Failing, null, CancellationToken.None)).WaitAsync(Bound));
        await Assert.ThrowsAsync<LlmStreamInterruptedException>(() => ReadAllAsync(state.Stream("b", 1, Failing, null, CancellationToken.None)).WaitAsync(Bound));
        Assert.Equal(2, starts);

        LlmCircuitOpenException open = await Assert.ThrowsAsync<LlmCircuitOpenException>(
            () => ReadAllAsync(state.Stream("c", 0, Failing, null, CancellationToken.None)).WaitAsync(Bound));
        Assert.Equal(Scene, open.Scene);
        Assert.Equal(2, starts);

        // A refused stream with a fallback streams the fallback's answer.
        List<string> answered = await ReadAllAsync(state.Stream("d", 0, Failing, Fallback, CancellationToken.None)).WaitAsync(Bound);
        Assert.Equal(["fallback: LlmCircuitOpenException"], answered);
        Assert.Equal(2, starts);

        async IAsyncEnumerable<string> Failing(int itemsBeforeFailure, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref starts);
            for (int i = 0; i < itemsBeforeFailure; i++)
            {
                yield return "item";
            }

            await Task.Yield();
            throw new InvalidOperationException("the model failed");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_stream_its_only_consumer_leaves_mid_answer_is_no_failure_for_the_breaker_even_after_a_failed_attempt(bool firstAttemptFails)
    {
        var runtime = new GuardRuntime(_time)
        {
            Options = Options(new LlmSceneOptions { MaxRetries = 1, RetryDelayMs = 0, BreakerFailureRatio = 0.5, BreakerMinimumThroughput = 2 }),
        };
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, 0, 0, 0, 0).For(runtime);

        // Enough abandoned streams to open the breaker twice over, were they counted as failures.
        for (int round = 0; round < 4; round++)
        {
            var upstream = new ScriptedUpstream();
            if (firstAttemptFails)
            {
                upstream.Fail(new HttpRequestException("service unavailable", null, HttpStatusCode.ServiceUnavailable));
            }

            upstream.Yield("a");
            upstream.Yield("b");
            IAsyncEnumerator<string> consumer = state.Stream("k", "k", upstream.RunAsync, null, CancellationToken.None).GetAsyncEnumerator();
            Assert.Equal(["a", "b"], await TakeAsync(consumer, 2));
            await consumer.DisposeAsync();
            await upstream.Cancelled.WaitAsync(Bound);
            WaitUntilNothingInFlight(runtime);
            Assert.Equal(firstAttemptFails ? 2 : 1, upstream.Starts);
        }

        Assert.Equal(["answered"], await ReadAllAsync(state.Stream("k", "k", Answering, null, CancellationToken.None)).WaitAsync(Bound));
    }

    [Fact]
    public async Task A_failure_the_upstream_throws_once_its_last_consumer_left_is_a_cancellation_the_breaker_does_not_count()
    {
        var runtime = new GuardRuntime(_time)
        {
            Options = Options(new LlmSceneOptions { BreakerFailureRatio = 0.5, BreakerMinimumThroughput = 2 }),
        };
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, 0, 0, 0, 0).For(runtime);
        for (int round = 0; round < 4; round++)
        {
            IAsyncEnumerator<string> consumer = state.Stream("k", "k", AbortedOnCancel, null, CancellationToken.None).GetAsyncEnumerator();
            Assert.Equal(["a"], await TakeAsync(consumer, 1));
            await consumer.DisposeAsync();
            WaitUntilNothingInFlight(runtime);
        }

        Assert.Equal(["answered"], await ReadAllAsync(state.Stream("k", "k", Answering, null, CancellationToken.None)).WaitAsync(Bound));

        // What an SDK does when the cancellation aborts the response it is reading.
        static async IAsyncEnumerable<string> AbortedOnCancel(string arguments, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            yield return "a";
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                throw new IOException("The response ended prematurely.");
            }
        }
    }

    [Fact]
    public async Task With_MaxConcurrency_1_the_permit_returns_when_the_last_consumer_leaves_mid_stream()
    {
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, 0, 0, 0, 0, maxConcurrency: 1).For(new GuardRuntime(_time));
        var first = new ScriptedUpstream();
        IAsyncEnumerator<string> leaving = state.Stream("a", "a", first.RunAsync, null, CancellationToken.None).GetAsyncEnumerator();
        first.Yield("a1");
        Assert.Equal(["a1"], await TakeAsync(leaving, 1));

        await leaving.DisposeAsync();
        WaitUntilNothingInFlight(state.Runtime);

        Assert.Equal(["answered"], await ReadAllAsync(state.Stream("b", "b", Answering, null, CancellationToken.None)).WaitAsync(Bound));
    }

    [Fact]
    public async Task With_MaxConcurrency_1_the_permit_returns_when_the_last_consumer_leaves_during_a_retry_delay()
    {
        var runtime = new GuardRuntime(_time) { Options = Options(new LlmSceneOptions { MaxConcurrency = 1, MaxRetries = 1, RetryDelayMs = 1_000 }) };
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, 0, 0, 0, 0).For(runtime);
        var first = new ScriptedUpstream();
        first.Fail(new HttpRequestException("service unavailable", null, HttpStatusCode.ServiceUnavailable));
        using var cancellation = new CancellationTokenSource();
        Task<List<string>> leaving = ReadAllAsync(state.Stream("a", "a", first.RunAsync, null, cancellation.Token));
        await _time.WhenTimersScheduledAsync().WaitAsync(Bound);

        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving.WaitAsync(Bound));
        WaitUntilNothingInFlight(runtime);

        Assert.Equal(["answered"], await ReadAllAsync(state.Stream("b", "b", Answering, null, CancellationToken.None)).WaitAsync(Bound));
        Assert.Equal(1, first.Starts);
    }

    [Fact]
    public async Task With_MaxConcurrency_1_a_queued_stream_whose_consumer_leaves_gives_up_its_place_and_starts_nothing()
    {
        var runtime = new GuardRuntime(_time) { Options = Options(new LlmSceneOptions { MaxConcurrency = 1, MaxQueue = 1 }) };
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, 0, 0, 0, 0).For(runtime);
        var first = new ScriptedUpstream();
        var queued = new ScriptedUpstream();
        await using IAsyncEnumerator<string> streaming = state.Stream("a", "a", first.RunAsync, null, CancellationToken.None).GetAsyncEnumerator();
        first.Yield("a1");
        Assert.Equal(["a1"], await TakeAsync(streaming, 1));
        using var cancellation = new CancellationTokenSource();
        Task<List<string>> leaving = ReadAllAsync(state.Stream("b", "b", queued.RunAsync, null, cancellation.Token));
        WaitUntilQueued(state, 1);

        cancellation.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving.WaitAsync(Bound));
        first.Complete();
        Assert.Empty(await RestAsync(streaming));
        WaitUntilNothingInFlight(runtime);

        Assert.Equal(["answered"], await ReadAllAsync(state.Stream("c", "c", Answering, null, CancellationToken.None)).WaitAsync(Bound));
        Assert.Equal(0, queued.Starts);
    }

    // A queued execution shows nowhere else: its upstream has not started and its consumers wait as for any first item.
    private static void WaitUntilQueued(GuardedStreamMethodState<string> state, int count) =>
        Assert.True(SpinWait.SpinUntil(() => state.Policy.Protection!.QueuedCount == count, Bound), "The stream never reached the queue.");

    private static async IAsyncEnumerable<string> Answering(string arguments, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        yield return "answered";
    }

    private static async IAsyncEnumerable<string> Fallback(int arguments, Exception failure, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        yield return "fallback: " + failure.GetType().Name;
    }

    private static LlmGuardOptions Options(LlmSceneOptions scene) => new() { Scenes = { [Scene] = scene } };
}
