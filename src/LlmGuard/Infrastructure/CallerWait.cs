using System;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Infrastructure;

/// <summary>Something shared that a caller waits for and can leave when its own token is cancelled.</summary>
internal interface IJoinable
{
    void Leave();
}

/// <summary>How one caller waits for a shared execution: its token ends only its own wait.</summary>
internal static class CallerWait
{
    private static readonly Action<object?> s_leave = static joined => ((IJoinable)joined!).Leave();

    /// <summary>
    /// The outcome of a call that must not join anything: its token is already cancelled, or it runs inside the
    /// very execution of <paramref name="owner"/> for <paramref name="key"/> that it would wait for. Otherwise null.
    /// </summary>
    public static Task<TResult>? EndsBeforeJoining<TResult>(object owner, string key, CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested ? Task.FromCanceled<TResult>(cancellationToken)
        : ExecutingFlights.Contains(owner, key) ? Task.FromException<TResult>(new GuardRecursionException(key))
        : null;

    /// <summary>
    /// Waits for <paramref name="shared"/>; when <paramref name="cancellationToken"/> is cancelled first, leaves
    /// <paramref name="joined"/> and then fails with a cancellation that carries that token.
    /// </summary>
    public static Task<TResult> WaitAsync<TResult>(Task<TResult> shared, IJoinable joined, CancellationToken cancellationToken) =>
        !cancellationToken.CanBeCanceled || shared.IsCompleted ? shared : WaitCancellableAsync(shared, joined, cancellationToken);

    private static async Task<TResult> WaitCancellableAsync<TResult>(Task<TResult> shared, IJoinable joined, CancellationToken cancellationToken)
    {
        CancellationTokenRegistration leave = cancellationToken.UnsafeRegister(s_leave, joined);
        try
        {
            return await shared.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException exception) when (cancellationToken.IsCancellationRequested && exception.CancellationToken != cancellationToken)
        {
            // The execution was cancelled because this caller left last; the caller still gets its own token.
            throw new OperationCanceledException(exception.Message, exception, cancellationToken);
        }
        finally
        {
            // Token callbacks run newest first, so the wait above can end before the registration has run;
            // removing it then would lose the leave. Either leave here, or let a running leave finish, so a
            // caller sees its cancellation only after it has left.
            if (leave.Unregister())
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    joined.Leave();
                }
            }
            else
            {
                await leave.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
