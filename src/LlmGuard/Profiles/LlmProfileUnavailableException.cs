using System;

namespace LlmGuard.Profiles;

/// <summary>
/// The exception a request to a model profile receives when the circuit breaker of every model of the profile is open:
/// no model was called. A guarded method's fallback answers it.
/// </summary>
/// <remarks>
/// LlmGuard classifies it as a permanent failure, before a team's <see cref="Failures.FailureClassifier"/> is asked:
/// a guarded method never retries it, and a scene's circuit breaker never counts it, since no model was called.
/// </remarks>
public sealed class LlmProfileUnavailableException : Exception
{
    /// <summary>Creates the exception for the profile <paramref name="profile"/>.</summary>
    /// <param name="profile">The name of the profile that had no model to call.</param>
    /// <param name="message">What was refused and why.</param>
    public LlmProfileUnavailableException(string profile, string message)
        : base(message)
    {
        Profile = profile;
    }

    /// <summary>Gets the name of the profile that had no model to call.</summary>
    public string Profile { get; }
}
