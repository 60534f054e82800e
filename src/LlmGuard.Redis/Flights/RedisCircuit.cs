using System;
using System.Threading;
using LlmGuard.Redis.Telemetry;
using Microsoft.Extensions.Logging;

namespace LlmGuard.Redis.Flights;

/// <summary>
/// Keeps an instance's calls off Redis while it is failing, so that during an outage only one call at a time pays
/// <c>RedisTimeout</c> and the others run locally at once.
/// </summary>
/// <remarks>
/// <para>Closed, every call uses Redis. A failure opens the circuit for a backoff (1 s, doubling on each failed probe,
/// at most 30 s); when it ends, the next call probes Redis while the others keep running locally. The probe's success
/// closes the circuit. The connection's own events move it too: a lost connection opens it before any call pays a
/// timeout, and a restored one ends the backoff so the next call probes at once.</para>
/// <para>Only the probe closes an open circuit: a call that passed before the outage and succeeds late says nothing
/// about Redis now.</para>
/// </remarks>
internal sealed class RedisCircuit : IDisposable
{
    internal static readonly TimeSpan InitialBackoff = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly object _gate = new();
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private CancellationTokenSource _lost = new();
    private State _state;
    private long _openUntil;
    private long _lostAt;
    private TimeSpan _backoff = InitialBackoff;

    public RedisCircuit(TimeProvider timeProvider, ILogger logger)
    {
        _timeProvider = timeProvider;
        _logger = logger;
    }

    private enum State
    {
        Closed,
        Open,
        Probing,
    }

    /// <summary>Gets whether Redis is believed reachable: no failure since the last success.</summary>
    public bool IsClosed
    {
        get
        {
            lock (_gate)
            {
                return _state == State.Closed;
            }
        }
    }

    /// <summary>Whether this call may use Redis.</summary>
    /// <param name="probe">Set when this call is the one probe of an open circuit: report its outcome.</param>
    /// <param name="lost">Cancelled when Redis is found lost, so a waiting follower stops waiting on it at once.</param>
    /// <returns><see langword="false"/> when the call runs locally without trying Redis.</returns>
    public bool TryPass(out bool probe, out CancellationToken lost)
    {
        probe = false;
        lock (_gate)
        {
            lost = _lost.Token;
            switch (_state)
            {
                case State.Closed:
                    return true;
                case State.Open when _timeProvider.GetTimestamp() >= _openUntil:
                    _state = State.Probing;
                    probe = true;
                    return true;
                default:
                    return false;
            }
        }
    }

    /// <summary>Redis answered a call's step.</summary>
    /// <param name="probe">Whether the call was the probe.</param>
    public void Succeeded(bool probe)
    {
        if (!probe)
        {
            return;
        }

        TimeSpan outage;
        lock (_gate)
        {
            if (_state != State.Probing)
            {
                return;
            }

            _state = State.Closed;
            _backoff = InitialBackoff;
            outage = _timeProvider.GetElapsedTime(_lostAt);
        }

        RedisLog.RedisRecovered(_logger, outage);
    }

    /// <summary>A Redis step failed or did not answer in time.</summary>
    /// <param name="probe">Whether the call was the probe.</param>
    /// <param name="reason">The fallback reason, for the log.</param>
    /// <param name="exception">The failure.</param>
    public void Failed(bool probe, string reason, Exception? exception)
    {
        CancellationTokenSource lost;
        TimeSpan? firstBackoff = null;
        lock (_gate)
        {
            if (_state == State.Probing && probe)
            {
                // Still down: wait longer before the next probe, so a long outage costs one timeout per backoff.
                _backoff = _backoff * 2 > MaxBackoff ? MaxBackoff : _backoff * 2;
                lost = Open();
            }
            else if (_state != State.Closed)
            {
                // A call that passed before the circuit opened: the outage is already known and logged.
                return;
            }
            else
            {
                lost = Open();
                _lostAt = _timeProvider.GetTimestamp();
                firstBackoff = _backoff;
            }
        }

        // Once per outage: the probes that fail after this one are part of the same outage.
        if (firstBackoff is { } backoff)
        {
            RedisLog.RedisLost(_logger, reason, backoff, exception);
        }

        // Outside the lock: cancelling runs the waiting followers' callbacks.
        lost.Cancel();
    }

    /// <summary>The probe ended without learning anything about Redis (its callers left first): let the next call probe.</summary>
    /// <param name="probe">Whether the call was the probe.</param>
    public void Inconclusive(bool probe)
    {
        if (!probe)
        {
            return;
        }

        lock (_gate)
        {
            if (_state == State.Probing)
            {
                _state = State.Open;
                _openUntil = _timeProvider.GetTimestamp();
            }
        }
    }

    /// <summary>The connection reported that it broke: open without waiting for a call to time out.</summary>
    public void ConnectionLost(Exception? exception) => Failed(probe: false, RedisFallbacks.Unreachable, exception);

    /// <summary>The connection reported that it is back: the next call probes without waiting out the backoff.</summary>
    public void ConnectionRestored()
    {
        lock (_gate)
        {
            if (_state == State.Open)
            {
                _openUntil = _timeProvider.GetTimestamp();
            }
        }
    }

    /// <summary>Releases the token source of the current period.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _lost.Dispose();
        }
    }

    // Returns the token source of the period that ends, for the caller to cancel outside the lock. Not disposed: a
    // follower may still be registering on its token.
    private CancellationTokenSource Open()
    {
        _state = State.Open;
        _openUntil = _timeProvider.GetTimestamp() + (long)(_backoff.TotalSeconds * _timeProvider.TimestampFrequency);
        CancellationTokenSource ended = _lost;
        _lost = new CancellationTokenSource();
        return ended;
    }
}
