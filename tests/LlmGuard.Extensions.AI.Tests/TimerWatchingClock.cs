using System;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Extensions.AI.Tests;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that reports the due time of every timer created or changed on it (a stream's
/// deadlines are one timer, changed per item), so a test advances the clock by a delay once the service has scheduled
/// it, never before (an advance before would leave it pending).
/// </summary>
internal sealed class TimerWatchingClock : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = base.CreateTimer(callback, state, dueTime, period);
        _timers.Writer.TryWrite(dueTime);
        return new WatchedTimer(timer, _timers.Writer);
    }

    /// <summary>
    /// Until <paramref name="done"/> completes, advances the clock by the due time of each timer created that
    /// <paramref name="advances"/> picks (a retry delay, not a deadline), at most <paramref name="maxTimers"/> timers created or changed.
    /// </summary>
    public async Task AdvanceTimersUntilAsync(Task done, Func<TimeSpan, bool> advances, TimeSpan bound, int maxTimers = 20)
    {
        for (int i = 0; i < maxTimers; i++)
        {
            Task<bool> created = _timers.Reader.WaitToReadAsync().AsTask();
            if (await Task.WhenAny(done, created).WaitAsync(bound) == done)
            {
                return;
            }

            TimeSpan due = await _timers.Reader.ReadAsync();
            // A timer created stopped (an infinite due time) and changed later is not a delay to pass.
            if (due > TimeSpan.Zero && advances(due))
            {
                Advance(due);
            }
        }

        throw new InvalidOperationException($"More than {maxTimers} timers were created or changed.");
    }

    /// <summary>Reports each change of a timer's due time once the timer runs with it.</summary>
    private sealed class WatchedTimer(ITimer inner, ChannelWriter<TimeSpan> changes) : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            bool changed = inner.Change(dueTime, period);
            changes.TryWrite(dueTime);
            return changed;
        }

        public void Dispose() => inner.Dispose();

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
