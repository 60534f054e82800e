using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Replay.VirtualTime;

namespace LlmGuard.Replay;

/// <summary>Caller latency percentiles, in virtual time.</summary>
public readonly record struct LatencyPercentiles(TimeSpan P50, TimeSpan P95, TimeSpan P99);

/// <summary>What the ledger's checks found wrong (or notable) in one caller's answer.</summary>
[Flags]
public enum AnswerCheck
{
    None = 0,

    /// <summary>Computed from a revision (conversation or FAQ content) older than the caller's own.</summary>
    Stale = 1,

    /// <summary>Computed for another tenant than the caller's.</summary>
    CrossTenant = 2,

    /// <summary>A personal answer computed for another user than the caller.</summary>
    CrossUser = 4,

    /// <summary>Not wrong: the fallback answered.</summary>
    FromFallback = 8,
}

/// <summary>What each caller got and when, one slot per trigger.</summary>
/// <param name="arrivalTicks">Each trigger's arrival, on the virtual clock.</param>
internal sealed class CallerLedger(IReadOnlyList<long> arrivalTicks, VirtualTimeProvider clock, ReplayProgress progress)
{
    private readonly long[] _latencyTicks = new long[arrivalTicks.Count];
    private readonly bool[] _finished = new bool[arrivalTicks.Count];
    private int _stale;
    private int _crossTenant;
    private int _crossUser;
    private int _failed;
    private int _fallbackAnswers;

    public int Stale => Volatile.Read(ref _stale);

    public int CrossTenant => Volatile.Read(ref _crossTenant);

    public int CrossUser => Volatile.Read(ref _crossUser);

    public int Failed => Volatile.Read(ref _failed);

    public int FallbackAnswers => Volatile.Read(ref _fallbackAnswers);

    public int Unfinished => _finished.Count(finished => !finished);

    // Never faults. The clock does not move while continuations run (the driver waits for quiescence), so "now" here is the
    // virtual instant the caller got its outcome.
    public async Task TrackAsync<TAnswer>(int index, Task<TAnswer> call, Func<int, TAnswer, AnswerCheck> check)
    {
        try
        {
            TAnswer answer = await call.ConfigureAwait(false);
            AnswerCheck found = check(index, answer);
            Count(found, AnswerCheck.Stale, ref _stale);
            Count(found, AnswerCheck.CrossTenant, ref _crossTenant);
            Count(found, AnswerCheck.CrossUser, ref _crossUser);
            Count(found, AnswerCheck.FromFallback, ref _fallbackAnswers);
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _failed);
        }

        _latencyTicks[index] = clock.GetTimestamp() - arrivalTicks[index];
        Volatile.Write(ref _finished[index], true);
        progress.CallerFinished();
    }

    public LatencyPercentiles LatencyPercentiles()
    {
        long[] sorted = _latencyTicks.Where((_, index) => _finished[index]).Order().ToArray();
        return new LatencyPercentiles(Percentile(sorted, 0.50), Percentile(sorted, 0.95), Percentile(sorted, 0.99));
    }

    private static void Count(AnswerCheck found, AnswerCheck flag, ref int counter)
    {
        if ((found & flag) != 0)
        {
            Interlocked.Increment(ref counter);
        }
    }

    // Nearest rank.
    private static TimeSpan Percentile(long[] sorted, double quantile) =>
        sorted.Length == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)]);
}
