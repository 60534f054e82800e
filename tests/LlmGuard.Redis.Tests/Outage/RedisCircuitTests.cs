using System;
using System.Linq;
using System.Threading;
using LlmGuard.Redis.Flights;
using LlmGuard.Redis.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Redis.Tests.Outage;

/// <summary>The backoff that keeps an instance's calls off a failing Redis, on a fake clock.</summary>
public sealed class RedisCircuitTests : IDisposable
{
    private readonly FakeTimeProvider _clock = new();
    private readonly FakeLogger _log = new();
    private readonly RedisCircuit _circuit;

    public RedisCircuitTests() => _circuit = new RedisCircuit(_clock, _log);

    public void Dispose() => _circuit.Dispose();

    [Fact]
    public void A_failure_keeps_calls_off_redis_for_one_second_then_lets_exactly_one_call_probe()
    {
        Assert.True(_circuit.TryPass(out bool probe, out _));
        Assert.False(probe);

        _circuit.Failed(probe, RedisFallbacks.Timeout, new TimeoutException());
        Assert.False(_circuit.TryPass(out _, out _));
        _clock.Advance(RedisCircuit.InitialBackoff - TimeSpan.FromMilliseconds(1));
        Assert.False(_circuit.TryPass(out _, out _));

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(_circuit.TryPass(out bool firstProbe, out _));
        Assert.True(firstProbe);
        Assert.False(_circuit.TryPass(out _, out _));
    }

    [Fact]
    public void Each_failed_probe_doubles_the_backoff_up_to_thirty_seconds_and_a_long_outage_logs_once()
    {
        _circuit.Failed(probe: false, RedisFallbacks.Unreachable, null);
        _clock.Advance(RedisCircuit.InitialBackoff);
        TimeSpan[] backoffs = [TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(16), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30)];
        foreach (TimeSpan backoff in backoffs)
        {
            Assert.True(_circuit.TryPass(out bool probe, out _));
            Assert.True(probe);
            _circuit.Failed(probe, RedisFallbacks.Timeout, null);

            _clock.Advance(backoff - TimeSpan.FromMilliseconds(1));
            Assert.False(_circuit.TryPass(out _, out _));
            _clock.Advance(TimeSpan.FromMilliseconds(1));
        }

        FakeLogRecord lost = Assert.Single(_log.Collector.GetSnapshot());
        Assert.Equal(101, lost.Id.Id);
        Assert.Equal(LogLevel.Warning, lost.Level);
        Assert.StartsWith("Redis lost (unreachable)", lost.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_successful_probe_closes_the_circuit_logs_the_recovery_once_and_resets_the_backoff()
    {
        _circuit.Failed(probe: false, RedisFallbacks.Timeout, null);
        _clock.Advance(RedisCircuit.InitialBackoff);
        Assert.True(_circuit.TryPass(out bool probe, out _));
        _circuit.Failed(probe, RedisFallbacks.Timeout, null);
        _clock.Advance(2 * RedisCircuit.InitialBackoff);
        Assert.True(_circuit.TryPass(out probe, out _));

        _circuit.Succeeded(probe);
        Assert.True(_circuit.IsClosed);
        Assert.True(_circuit.TryPass(out bool closedProbe, out _));
        Assert.False(closedProbe);
        Assert.Equal([101, 102], _log.Collector.GetSnapshot().Select(r => r.Id.Id));
        Assert.Contains("00:00:03", _log.Collector.LatestRecord.Message, StringComparison.Ordinal);

        // The next outage starts from the initial backoff again.
        _circuit.Failed(probe: false, RedisFallbacks.Timeout, null);
        _clock.Advance(RedisCircuit.InitialBackoff);
        Assert.True(_circuit.TryPass(out probe, out _));
        Assert.True(probe);
    }

    [Fact]
    public void A_late_success_of_a_call_that_passed_before_the_outage_does_not_close_the_circuit()
    {
        Assert.True(_circuit.TryPass(out bool earlier, out _));
        _circuit.Failed(probe: false, RedisFallbacks.Timeout, null);

        _circuit.Succeeded(earlier);

        Assert.False(_circuit.IsClosed);
        Assert.False(_circuit.TryPass(out _, out _));
    }

    [Fact]
    public void Losing_the_connection_opens_the_circuit_and_wakes_the_calls_waiting_on_redis()
    {
        Assert.True(_circuit.TryPass(out _, out CancellationToken lost));

        _circuit.ConnectionLost(exception: null);

        Assert.True(lost.IsCancellationRequested);
        Assert.False(_circuit.TryPass(out _, out _));
    }

    [Fact]
    public void A_restored_connection_lets_the_next_call_probe_without_waiting_out_the_backoff()
    {
        _circuit.ConnectionLost(exception: null);
        Assert.False(_circuit.TryPass(out _, out _));

        _circuit.ConnectionRestored();

        Assert.True(_circuit.TryPass(out bool probe, out _));
        Assert.True(probe);
    }

    [Fact]
    public void A_probe_whose_callers_left_before_redis_answered_lets_the_next_call_probe()
    {
        _circuit.Failed(probe: false, RedisFallbacks.Timeout, null);
        _clock.Advance(RedisCircuit.InitialBackoff);
        Assert.True(_circuit.TryPass(out bool probe, out _));

        _circuit.Inconclusive(probe);

        Assert.True(_circuit.TryPass(out bool next, out _));
        Assert.True(next);
    }
}
