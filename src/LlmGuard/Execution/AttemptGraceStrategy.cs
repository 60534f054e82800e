using System;
using System.Threading;
using System.Threading.Tasks;
using Polly;

namespace LlmGuard.Execution;

/// <summary>
/// Bounds how long an attempt outlives its token: once the attempt's token is cancelled (its timeout fired, or
/// every caller of the execution left), the core gets <see cref="Grace"/> to stop; a core that ignores its token
/// longer is abandoned, so its callers are answered and its key is freed.
/// </summary>
/// <remarks>
/// Added innermost, inside Polly's timeout: the token it watches is the attempt's, and the cancellation it
/// returns for an abandoned attempt is what the timeout turns into a <c>TimeoutRejectedException</c>, which
/// the retry treats as transient. An abandoned core keeps running, but nothing waits for it: its eventual result
/// is discarded, and its eventual exception was already caught into an outcome by Polly's callback wrapper.
/// An attempt whose token is cancelled before it starts never runs its core.
/// </remarks>
internal sealed class AttemptGraceStrategy : ResilienceStrategy
{
    /// <summary>
    /// How long a core may take to stop after its attempt's token is cancelled, on the runtime's clock. Long enough
    /// for an SDK that honours its token to unwind, short enough that callers of one that ignores it are answered
    /// about as soon as the timeout says.
    /// </summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(100);

    private readonly GuardRuntime _runtime;

    public AttemptGraceStrategy(GuardRuntime runtime) => _runtime = runtime;

    protected override ValueTask<Outcome<TResult>> ExecuteCore<TResult, TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback,
        ResilienceContext context,
        TState state)
    {
        CancellationToken attemptToken = context.CancellationToken;
        if (attemptToken.IsCancellationRequested)
        {
            // Nobody waits for an attempt whose token is already cancelled (a caller that cancelled before calling,
            // with SingleFlight = false), so its core never starts.
            return new(Outcome.FromException<TResult>(new OperationCanceledException(attemptToken)));
        }

        ValueTask<Outcome<TResult>> attempt = callback(context, state);

        // A core that finished at once, or an attempt nobody can cancel, needs no watching: pass it through as it is.
        return attempt.IsCompleted || !attemptToken.CanBeCanceled
            ? attempt
            : WatchAsync(attempt.AsTask(), context.ContinueOnCapturedContext, attemptToken);
    }

    private async ValueTask<Outcome<TResult>> WatchAsync<TResult>(Task<Outcome<TResult>> attempt, bool continueOnCapturedContext, CancellationToken attemptToken)
    {
        // Polly's callback wrapper turns every exception into an outcome, so the attempt never faults; the waits
        // below only end early, which SuppressThrowing lets us see without an exception.
        ConfigureAwaitOptions options = ConfigureAwaitOptions.SuppressThrowing
            | (continueOnCapturedContext ? ConfigureAwaitOptions.ContinueOnCapturedContext : ConfigureAwaitOptions.None);
        await ((Task)attempt.WaitAsync(attemptToken)).ConfigureAwait(options);
        if (!attempt.IsCompleted)
        {
            await ((Task)attempt.WaitAsync(Grace, _runtime.TimeProvider, CancellationToken.None)).ConfigureAwait(options);
        }

        if (attempt.IsCompleted)
        {
            return await attempt.ConfigureAwait(continueOnCapturedContext);
        }

        _runtime.CountAbandonedAttempt();
        return Outcome.FromException<TResult>(new OperationCanceledException(
            "The attempt was abandoned: its core did not stop within the grace after its token was cancelled.",
            attemptToken));
    }
}
