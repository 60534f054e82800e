using System;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Execution;

/// <summary>
/// Bounds how long an attempt outlives its token: once the attempt's token is cancelled (its timeout fired, or
/// every caller of the execution left), the core gets <see cref="Grace"/> to stop; a core that ignores its token
/// longer is abandoned, so its callers are answered and its key is freed.
/// </summary>
/// <remarks>
/// It runs inside Polly's timeout: the token it watches is the attempt's, and the cancellation it throws for an
/// abandoned attempt is what the timeout turns into a <c>TimeoutRejectedException</c>, which the retry treats as
/// transient. An abandoned core keeps running, but nothing waits for it: its eventual result is discarded and its
/// eventual exception observed.
/// </remarks>
internal static class AttemptGrace
{
    /// <summary>
    /// How long a core may take to stop after its attempt's token is cancelled, on the runtime's clock. Long enough
    /// for an SDK that honours its token to unwind, short enough that callers of one that ignores it are answered
    /// about as soon as the timeout says.
    /// </summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(100);

    // A core that finished at once, or an attempt nobody can cancel, needs no watching: it passes through as it is,
    // so the hot path pays nothing.
    public static ValueTask<TResult> Watch<TResult>(ValueTask<TResult> attempt, GuardRuntime runtime, CancellationToken attemptToken) =>
        attempt.IsCompleted || !attemptToken.CanBeCanceled ? attempt : WatchAsync(attempt.AsTask(), runtime, attemptToken);

    private static async ValueTask<TResult> WatchAsync<TResult>(Task<TResult> attempt, GuardRuntime runtime, CancellationToken attemptToken)
    {
        await WaitWithinGraceAsync(attempt, runtime, attemptToken).ConfigureAwait(false);
        return await attempt.ConfigureAwait(false);
    }

    // Returns once the attempt has completed, however it ended; throws a cancellation for the token when it is abandoned.
    private static async Task WaitWithinGraceAsync(Task attempt, GuardRuntime runtime, CancellationToken attemptToken)
    {
        // The waits only end early, which SuppressThrowing lets us see without an exception; the attempt's own
        // outcome is read by the caller.
        await attempt.WaitAsync(attemptToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (!attempt.IsCompleted)
        {
            await attempt.WaitAsync(Grace, runtime.TimeProvider, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (attempt.IsCompleted)
        {
            return;
        }

        runtime.CountAbandonedAttempt();

        // Nobody awaits the core any more: observing its eventual failure keeps it from surfacing as an
        // UnobservedTaskException.
        _ = attempt.ContinueWith(
            static abandoned => _ = abandoned.Exception,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        throw new OperationCanceledException(
            "The attempt was abandoned: its core did not stop within the grace after its token was cancelled.",
            attemptToken);
    }
}
