using System;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Extensions.AI.Tests;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that reports every timer created on it, so a test sees the delay the retry
/// strategy scheduled and advances exactly that far.
/// </summary>
public sealed class RecordingTimeProvider : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ITimer timer = base.CreateTimer(callback, state, dueTime, period);
        _timers.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>
    /// Runs <paramref name="call"/> to completion, advancing the clock by each timer's due time as it is created, and
    /// returns the due times in order. With no per-attempt timeout, those timers are the retry delays.
    /// </summary>
    public async Task<(T Result, TimeSpan[] Delays)> DriveAsync<T>(Task<T> call, int maxTimers = 10)
    {
        var delays = new System.Collections.Generic.List<TimeSpan>();
        for (int i = 0; i <= maxTimers; i++)
        {
            Task<bool> timer = _timers.Reader.WaitToReadAsync().AsTask();
            Task first = await Task.WhenAny(call, timer).WaitAsync(TimeSpan.FromSeconds(10));
            if (first == call && !_timers.Reader.TryPeek(out _))
            {
                return (await call, delays.ToArray());
            }

            TimeSpan due = await _timers.Reader.ReadAsync();
            delays.Add(due);
            Advance(due);
        }

        throw new InvalidOperationException($"The call created more than {maxTimers} timers.");
    }
}
