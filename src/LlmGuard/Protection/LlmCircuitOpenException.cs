using System;

namespace LlmGuard.Protection;

/// <summary>
/// The exception a guarded call without a fallback receives when its scene's circuit breaker is open (or half-open
/// with its one probe already running): the core was not called.
/// </summary>
public sealed class LlmCircuitOpenException : LlmCallRejectedException
{
    /// <summary>Creates the exception for the open breaker of <paramref name="scene"/>.</summary>
    /// <param name="scene">The scene whose breaker refused the execution.</param>
    /// <param name="innerException">The breaker's own exception, which carries the failure that opened it.</param>
    public LlmCircuitOpenException(string scene, Exception? innerException = null)
        : base(scene, $"The circuit breaker of scene '{scene}' is open: the execution was rejected without calling the core.", innerException)
    {
    }
}
