using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Replay.VirtualTime;

/// <summary>
/// A clock that only moves when the replay driver moves it, with a queue of timers that fire in due order.
/// Everything time-based in the replay goes through it: the model's latency (Task.Delay on this provider), Polly's
/// per-attempt timeouts and retry delays, and LlmGuard's merge windows.
/// </summary>
public sealed class VirtualTimeProvider : TimeProvider
{
    public static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly object _gate = new();

    // Change and Dispose do not search the queue: they bump the timer's version, and entries whose version is old are
    // skipped when they reach the head. Sequence numbers keep timers due at the same tick in creation order.
    private readonly PriorityQueue<(VirtualTimer Timer, long Version), (long DueTicks, long Sequence)> _queue = new();
    private long _sequence;
    private long _nowTicks;
    private int _scheduled;

    public override DateTimeOffset GetUtcNow() => Start.AddTicks(Volatile.Read(ref _nowTicks));

    public override long GetTimestamp() => Volatile.Read(ref _nowTicks);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>Time since the clock started.</summary>
    public TimeSpan Elapsed => TimeSpan.FromTicks(Volatile.Read(ref _nowTicks));

    /// <summary>Timers that are scheduled to fire (not yet fired, changed to infinite or disposed).</summary>
    public int ScheduledTimers
    {
        get
        {
            lock (_gate)
            {
                return _scheduled;
            }
        }
    }

    /// <summary>When the next timer is due, in ticks since the start; null when no timer is scheduled.</summary>
    public long? NextDueTicks
    {
        get
        {
            lock (_gate)
            {
                return TryPeekLive(out long due) ? due : null;
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);

        // Like the system timers: the callback runs in the creator's ExecutionContext unless its flow is suppressed.
        var timer = new VirtualTimer(this, callback, state, ExecutionContext.Capture());
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>
    /// Moves the clock to <paramref name="ticks"/> (never backwards) and fires, on the calling thread and in due order,
    /// every timer due by then, including timers those callbacks schedule for that same moment.
    /// </summary>
    /// <returns>The number of timer callbacks that ran.</returns>
    public int AdvanceTo(long ticks)
    {
        lock (_gate)
        {
            if (ticks > _nowTicks)
            {
                Volatile.Write(ref _nowTicks, ticks);
            }
        }

        int fired = 0;
        while (TryTakeDue(out VirtualTimer? timer))
        {
            timer.Fire();
            fired++;
        }

        return fired;
    }

    private bool TryTakeDue(out VirtualTimer timer)
    {
        lock (_gate)
        {
            if (TryPeekLive(out long due) && due <= _nowTicks)
            {
                (timer, _) = _queue.Dequeue();
                timer.OnFiring(_nowTicks);
                return true;
            }
        }

        timer = null!;
        return false;
    }

    // Under _gate: drops stale heads, then reports the due time of the live head.
    private bool TryPeekLive(out long dueTicks)
    {
        while (_queue.TryPeek(out (VirtualTimer Timer, long Version) entry, out (long DueTicks, long Sequence) priority))
        {
            if (entry.Timer.Version == entry.Version)
            {
                dueTicks = priority.DueTicks;
                return true;
            }

            _queue.Dequeue();
        }

        dueTicks = 0;
        return false;
    }

    private sealed class VirtualTimer(VirtualTimeProvider clock, TimerCallback callback, object? state, ExecutionContext? context) : ITimer
    {
        private TimeSpan _period = Timeout.InfiniteTimeSpan;
        private bool _scheduled;
        private bool _disposed;

        // Read and written under the clock's gate.
        public long Version { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                if (_disposed)
                {
                    return false;
                }

                _period = period;
                Version++;
                if (dueTime == Timeout.InfiniteTimeSpan)
                {
                    SetScheduled(false);
                    return true;
                }

                long due = clock._nowTicks + Math.Max(0, dueTime.Ticks);
                clock._queue.Enqueue((this, Version), (due, clock._sequence++));
                SetScheduled(true);
                return true;
            }
        }

        // Under the clock's gate, when this timer's live entry has just been dequeued.
        public void OnFiring(long nowTicks)
        {
            Version++;
            if (_period > TimeSpan.Zero)
            {
                clock._queue.Enqueue((this, Version), (nowTicks + _period.Ticks, clock._sequence++));
            }
            else
            {
                SetScheduled(false);
            }
        }

        public void Fire()
        {
            if (context is null)
            {
                callback(state);
            }
            else
            {
                ExecutionContext.Run(context, static self => ((VirtualTimer)self!).InvokeCallback(), this);
            }
        }

        public void Dispose()
        {
            lock (clock._gate)
            {
                _disposed = true;
                Version++;
                SetScheduled(false);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }

        private void InvokeCallback() => callback(state);

        private void SetScheduled(bool scheduled)
        {
            if (scheduled != _scheduled)
            {
                _scheduled = scheduled;
                clock._scheduled += scheduled ? 1 : -1;
            }
        }
    }
}
