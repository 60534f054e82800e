using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Fakes;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that also tells how many of its timers are scheduled. Code under test often
/// schedules its timer on another thread (a retry's backoff, an attempt's grace): a test must wait for that timer
/// before it advances the clock, or the advance happens first and the timer is scheduled after it, measured from
/// the new time. FakeTimeProvider does not expose its timers, so this one wraps each timer it creates.
/// </summary>
public sealed class TimerAwareFakeTimeProvider : FakeTimeProvider
{
    private readonly object _gate = new();
    private readonly HashSet<TrackedTimer> _scheduled = new();
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = new();

    /// <summary>Timers that are scheduled and have not fired (one-shot) or been disposed.</summary>
    public int ScheduledTimers
    {
        get
        {
            lock (_gate)
            {
                return _scheduled.Count;
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new TrackedTimer(this, callback, state);
        timer.Start(base.CreateTimer(static t => ((TrackedTimer)t!).Fire(), timer, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan));
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Completes once at least <paramref name="count"/> timers are scheduled; fails after 10 s of real time so a broken test cannot hang.</summary>
    public Task WhenTimersScheduledAsync(int count = 1)
    {
        lock (_gate)
        {
            if (_scheduled.Count >= count)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, signal));
            return signal.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    private void Track(TrackedTimer timer, bool scheduled)
    {
        List<TaskCompletionSource> ready = new();
        lock (_gate)
        {
            if (!scheduled)
            {
                _scheduled.Remove(timer);
                return;
            }

            _scheduled.Add(timer);
            _waiters.RemoveAll(waiter =>
            {
                bool met = waiter.Count <= _scheduled.Count;
                if (met)
                {
                    ready.Add(waiter.Signal);
                }

                return met;
            });
        }

        ready.ForEach(signal => signal.TrySetResult());
    }

    private sealed class TrackedTimer(TimerAwareFakeTimeProvider clock, TimerCallback callback, object? state) : ITimer
    {
        private ITimer? _inner;
        private TimeSpan _period = Timeout.InfiniteTimeSpan;

        public void Start(ITimer inner) => _inner = inner;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            _period = period;
            clock.Track(this, scheduled: dueTime != Timeout.InfiniteTimeSpan);
            return _inner!.Change(dueTime, period);
        }

        // A one-shot timer is done once it fires; a periodic one stays scheduled.
        public void Fire()
        {
            if (_period == Timeout.InfiniteTimeSpan || _period == TimeSpan.Zero)
            {
                clock.Track(this, scheduled: false);
            }

            callback(state);
        }

        public void Dispose()
        {
            clock.Track(this, scheduled: false);
            _inner!.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
