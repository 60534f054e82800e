using System;
using System.Threading;
using LlmGuard.Protection;

namespace LlmGuard.Failures;

/// <summary>
/// What the breaker of a profile's model counts as a failure. It follows the scene breaker's rule (everything not
/// permanent), so that the same setting names mean the same thing on both; the scene breaker adds what only an
/// execution knows (a failed attempt before its callers left, a refusal raised inside the core), in <see cref="SceneBreaker"/>.
/// </summary>
internal static class BreakerFailures
{
    /// <summary>
    /// Returns whether <paramref name="exception"/> says the model is unhealthy: timeouts, transient failures (408, 429,
    /// 5xx, transport) and failures no rule recognises. A permanent failure (400, 401, 403, 404, 422, content filtered,
    /// a profile with every breaker open) is the request's fault or was decided without calling the model, and a
    /// refusal by LlmGuard's own limits never reached it.
    /// </summary>
    /// <param name="exception">How the request ended; <see langword="null"/> for a success.</param>
    /// <param name="probing">Whether the request is the probe of a half-open breaker.</param>
    /// <param name="teamClassifier">The team's failure rule, asked before the built-in rules.</param>
    /// <param name="timeProvider">The clock a <c>Retry-After</c> date is read against.</param>
    /// <param name="callerToken">The token of the request's callers.</param>
    public static bool CountsAsFailure(
        Exception? exception, bool probing, FailureClassifier? teamClassifier, TimeProvider timeProvider, CancellationToken callerToken)
    {
        if (exception is null or LlmCallRejectedException)
        {
            return false;
        }

        // Callers who left say nothing about the model. Polly records an outcome it does not handle as a success, so a
        // probe they abandoned would close the breaker of a model nobody heard from: it counts, and the breaker opens again.
        if (callerToken.IsCancellationRequested)
        {
            return probing;
        }

        return FailureInspection.Classify(exception, teamClassifier, timeProvider).Kind != FailureKind.Permanent;
    }
}
