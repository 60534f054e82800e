using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;

namespace LlmGuard.Replay.VirtualTime;

/// <summary>
/// Runs a replay in virtual time: waits until the process is quiescent, then jumps the clock to the next event — the
/// next trigger's arrival or the next timer — fires the timers due then and starts the triggers that arrive then.
/// Ends when no trigger is left, no timer is scheduled and every caller has its outcome.
/// </summary>
public static class VirtualTimeDriver
{
    private static readonly TimeSpan UnfinishedCallerLimit = TimeSpan.FromSeconds(10);

    /// <param name="clock">The clock every timer of the replay is on.</param>
    /// <param name="arrivalTicks">Each trigger's arrival, in ticks since the clock's start, in ascending order.</param>
    /// <param name="arrive">Starts trigger i; called on the driver's thread, at its arrival.</param>
    /// <param name="everyCallerFinished">Whether every started caller has its outcome.</param>
    /// <returns>The number of steps (clock moves) it took.</returns>
    public static long Run(VirtualTimeProvider clock, IReadOnlyList<long> arrivalTicks, Action<int> arrive, Func<bool> everyCallerFinished)
    {
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(arrivalTicks);
        ArgumentNullException.ThrowIfNull(arrive);
        ArgumentNullException.ThrowIfNull(everyCallerFinished);

        int next = 0;
        long steps = 0;
        while (true)
        {
            ThreadPoolQuiescence.WaitUntilIdle();
            long? timerDue = clock.NextDueTicks;
            long? arrival = next < arrivalTicks.Count ? arrivalTicks[next] : null;
            if (timerDue is null && arrival is null)
            {
                if (everyCallerFinished() || !SomethingStillRuns(clock, everyCallerFinished))
                {
                    return steps;
                }

                continue;
            }

            long at = Math.Min(timerDue ?? long.MaxValue, arrival ?? long.MaxValue);
            steps++;

            // Timers first: a merge window due to close at this instant closes before a trigger of the same instant
            // arrives, as it would on a real clock whose timer thread got there first.
            clock.AdvanceTo(at);
            while (next < arrivalTicks.Count && arrivalTicks[next] <= at)
            {
                arrive(next++);
            }
        }
    }

    // The end is the one moment a mistaken "idle" cannot be corrected by a later step: a continuation still running
    // (descheduled, or in a garbage collection) could schedule a timer, such as a retry delay, that nobody would fire.
    // With callers still waiting, wait in real time for that timer or those outcomes; only a caller that nothing
    // will ever complete outlasts the limit, and it is reported as unfinished.
    private static bool SomethingStillRuns(VirtualTimeProvider clock, Func<bool> everyCallerFinished)
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < UnfinishedCallerLimit)
        {
            Thread.Sleep(1);
            if (clock.NextDueTicks is not null || everyCallerFinished())
            {
                return true;
            }
        }

        return false;
    }
}
