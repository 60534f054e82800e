using System;
using System.Collections.Generic;
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

    private static async IAsyncEnumerable<string> Fallback(int arguments, Exception failure, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        yield return "fallback: " + failure.GetType().Name;
    }

    private static LlmGuardOptions Options(LlmSceneOptions scene) => new() { Scenes = { [Scene] = scene } };
}
