using System.Threading;

namespace LlmGuard.Replay.VirtualTime;

/// <summary>
/// Waits until the thread pool has nothing left to do, so that the virtual clock may move.
/// </summary>
/// <remarks>
/// <para>Why: LlmGuard awaits with ConfigureAwait(false) and completes its callers with RunContinuationsAsynchronously,
/// so after a timer fires or a trigger arrives, the consequences run as thread-pool work items. Moving the clock while
/// they run would let time pass "during" work that takes no virtual time.</para>
/// <para>How: the pool is idle when no work item is queued (<see cref="ThreadPool.PendingWorkItemCount"/> is 0) and none
/// completed during several consecutive samples (<see cref="ThreadPool.CompletedWorkItemCount"/> unchanged).</para>
/// <para>Limits: the pool does not report work items that are dequeued but still running. An item that runs longer than
/// the sampling window (first-call JIT, a GC pause, the OS descheduling its thread on a busy machine) can be mistaken for
/// idleness and the clock moves early; the work then happens at a later virtual instant than it should. Unrelated pool
/// work in the process (a test runner, the progress display) only delays the detection. The replay warms up the JIT
/// before measuring, and its checks (no stale result, every caller completes) hold whatever the timing.</para>
/// </remarks>
public static class ThreadPoolQuiescence
{
    /// <summary>Consecutive samples with no pending and no newly completed work item that count as idle (default 6).</summary>
    public static int StableSamples { get; set; } = 6;

    /// <summary>Busy-wait iterations between samples: a few microseconds, longer than one of LlmGuard's continuations.</summary>
    public const int SpinIterationsBetweenSamples = 40;

    public static void WaitUntilIdle()
    {
        long completed = ThreadPool.CompletedWorkItemCount;
        int stable = 0;
        while (stable < StableSamples)
        {
            if (ThreadPool.PendingWorkItemCount != 0)
            {
                stable = 0;
                Thread.Yield();
                completed = ThreadPool.CompletedWorkItemCount;
                continue;
            }

            Thread.SpinWait(SpinIterationsBetweenSamples);
            long now = ThreadPool.CompletedWorkItemCount;
            if (now == completed)
            {
                stable++;
            }
            else
            {
                completed = now;
                stable = 0;
            }
        }
    }
}
