using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded;
using Polly.Timeout;

namespace LlmGuard.Tests;

/// <summary>
/// Two keys whose cores call each other: neither execution can finish before the other, and the recursion check,
/// which sees only the executions a call runs inside, does not refuse it. What ends the waits is a bounded wait:
/// the attempt's timeout, or a caller's own token.
/// </summary>
public sealed class CrossKeyCycleTests : IDisposable
{
    private readonly TimerAwareFakeTimeProvider _time = new();
    private readonly GuardRuntime _runtime;
    private readonly CrossCallingAssistant _assistant;

    public CrossKeyCycleTests()
    {
        _runtime = new GuardRuntime(_time);
        _assistant = new CrossCallingAssistant(_runtime);
    }

    public void Dispose()
    {
        _assistant.Release.Dispose();
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task With_a_timeout_a_cycle_across_two_keys_ends_for_both_callers_when_the_attempts_time_out()
    {
        Task<string> x = _assistant.FirstTimedAsync("k1", "k2");
        Task<string> y = _assistant.SecondTimedAsync("k2", "k1");
        await Eventually.Until(() => _assistant.WaitingOnPeer == 2, "each core waits for the other key's execution");
        Assert.False(x.IsCompleted || y.IsCompleted);

        _time.Advance(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAsync<TimeoutRejectedException>(() => x.Within());
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => y.Within());
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task Without_a_timeout_each_caller_of_a_cycle_leaves_it_with_its_own_token_and_the_cycle_keeps_both_executions()
    {
        using var xLeaves = new CancellationTokenSource();
        using var yLeaves = new CancellationTokenSource();
        Task<string> x = _assistant.FirstUntimedAsync("k1", "k2", xLeaves.Token);
        Task<string> y = _assistant.SecondUntimedAsync("k2", "k1", yLeaves.Token);
        await Eventually.Until(() => _assistant.WaitingOnPeer == 2, "each core waits for the other key's execution");

        xLeaves.Cancel();
        Assert.Equal(xLeaves.Token, (await Assert.ThrowsAnyAsync<OperationCanceledException>(() => x.Within())).CancellationToken);
        Assert.False(y.IsCompleted);
        yLeaves.Cancel();
        Assert.Equal(yLeaves.Token, (await Assert.ThrowsAnyAsync<OperationCanceledException>(() => y.Within())).CancellationToken);

        // Each execution still has a waiter, the other's core, so neither is cancelled: the cycle holds both keys
        // until something ends one of the cores' own waits.
        Assert.Equal(2, _runtime.InFlightCount);
        _assistant.Release.Cancel();
        await Eventually.Until(() => _runtime.InFlightCount == 0, "both executions end once their cores stop waiting");
    }
}
