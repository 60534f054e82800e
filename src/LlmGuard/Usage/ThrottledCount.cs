using System;
using System.Threading;

namespace LlmGuard.Usage;

/// <summary>
/// Counts an event that can happen on every execution and says when it is due to be logged: at most once per interval,
/// with how many happened since the previous line, so an outage writes one line a minute rather than one per call.
/// </summary>
internal sealed class ThrottledCount
{
    private readonly TimeSpan _interval;
    private long _total;
    private long _logged;
    private long _nextLogTimestamp;

    public ThrottledCount(TimeSpan interval)
    {
        _interval = interval;
    }

    /// <summary>Gets how many times the event happened.</summary>
    public long Total => Interlocked.Read(ref _total);

    /// <summary>
    /// Counts one event; returns <see langword="true"/> when this one is to be logged, with the events since the previous
    /// logged one and the total.
    /// </summary>
    public bool Increment(TimeProvider clock, out long sinceLogged, out long total)
    {
        total = Interlocked.Increment(ref _total);
        sinceLogged = 0;
        long now = clock.GetTimestamp();
        long next = Interlocked.Read(ref _nextLogTimestamp);
        if (now < next)
        {
            return false;
        }

        long interval = (long)(_interval.TotalSeconds * clock.TimestampFrequency);
        if (Interlocked.CompareExchange(ref _nextLogTimestamp, now + interval, next) != next)
        {
            return false;
        }

        sinceLogged = total - Interlocked.Exchange(ref _logged, total);
        return true;
    }
}
