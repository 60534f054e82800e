using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Replay.Traffic;
using LlmGuard.Replay.VirtualTime;

namespace LlmGuard.Replay;

/// <summary>Caller latency percentiles, in virtual time.</summary>
public readonly record struct LatencyPercentiles(TimeSpan P50, TimeSpan P95, TimeSpan P99);

/// <summary>What each caller got and when, one slot per trigger.</summary>
internal sealed class CallerLedger(ReplayTrace trace, VirtualTimeProvider clock, ReplayProgress progress)
{
    private readonly long[] _latencyTicks = new long[trace.Triggers.Count];
    private readonly bool[] _finished = new bool[trace.Triggers.Count];
    private int _stale;
    private int _failed;
    private int _fallbackAnswers;

    public int Stale => Volatile.Read(ref _stale);

    public int Failed => Volatile.Read(ref _failed);

    public int FallbackAnswers => Volatile.Read(ref _fallbackAnswers);

    public int Unfinished => _finished.Count(finished => !finished);

    public string DescribeUnfinished() => string.Join("; ", _finished
        .Select((finished, index) => (finished, index))
        .Where(entry => !entry.finished)
        .Take(5)
        .Select(entry => trace.Triggers[entry.index].ToString()));

    // Never faults. The clock does not move while continuations run (the driver waits for quiescence), so "now" here is the
    // virtual instant the caller got its outcome.
    public async Task TrackAsync(int index, Task<Answer> call)
    {
        Trigger trigger = trace.Triggers[index];
        try
        {
            Answer answer = await call.ConfigureAwait(false);
            if (answer.Revision < trigger.Revision)
            {
                Interlocked.Increment(ref _stale);
            }

            if (answer.FromFallback)
            {
                Interlocked.Increment(ref _fallbackAnswers);
            }
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _failed);
        }

        _latencyTicks[index] = clock.GetTimestamp() - trigger.AtTicks;
        Volatile.Write(ref _finished[index], true);
        progress.CallerFinished();
    }

    public LatencyPercentiles LatencyPercentiles()
    {
        long[] sorted = _latencyTicks.Where((_, index) => _finished[index]).Order().ToArray();
        return new LatencyPercentiles(Percentile(sorted, 0.50), Percentile(sorted, 0.95), Percentile(sorted, 0.99));
    }

    // Nearest rank.
    private static TimeSpan Percentile(long[] sorted, double quantile) =>
        sorted.Length == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)]);
}
