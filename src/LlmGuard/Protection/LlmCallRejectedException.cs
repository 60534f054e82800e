using System;

namespace LlmGuard.Protection;

/// <summary>
/// The exception a guarded call without a fallback receives when its execution was refused before its core ran: an
/// open circuit breaker, a concurrency or rate limit, or a token budget. Its calls and executions end with the result
/// <c>rejected</c>; a method with a fallback answers them with it instead.
/// </summary>
public abstract class LlmCallRejectedException : Exception
{
    /// <summary>Creates the exception for a refusal in <paramref name="scene"/>.</summary>
    /// <param name="scene">The scene whose execution was refused.</param>
    /// <param name="message">What was refused and why.</param>
    /// <param name="innerException">The failure behind the refusal, when there is one.</param>
    protected LlmCallRejectedException(string scene, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Scene = scene;
    }

    /// <summary>Gets the scene whose execution was refused.</summary>
    public string Scene { get; }
}
