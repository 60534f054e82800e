using System;
using System.Threading.Tasks;
using Polly;
using Polly.Retry;

namespace LlmGuard.Failures;

/// <summary>Builds the retry strategy of a guarded method's attempts from its constants and the runtime's classifier.</summary>
internal static class AttemptRetries
{
    // The verdict that made ShouldHandle retry, for the delay generator that Polly calls next: classifying once keeps
    // a team classifier from being asked twice and an HTTP-date Retry-After from being read against two clocks.
    private static readonly ResiliencePropertyKey<TimeSpan?> s_retryAfter = new("LlmGuard.RetryAfter");

    public static RetryStrategyOptions Create(int maxRetries, int retryDelayMs, int maxRetryAfterMs, GuardRuntime runtime)
    {
        FailureClassifier? teamClassifier = runtime.FailureClassifier;
        TimeProvider timeProvider = runtime.TimeProvider;
        TimeSpan maxRetryAfter = TimeSpan.FromMilliseconds(maxRetryAfterMs);
        return new RetryStrategyOptions
        {
            MaxRetryAttempts = maxRetries,
            Delay = TimeSpan.FromMilliseconds(retryDelayMs),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            ShouldHandle = args =>
            {
                if (args.Outcome.Exception is null || args.Context.CancellationToken.IsCancellationRequested)
                {
                    return new ValueTask<bool>(false);
                }

                FailureClassification verdict = FailureInspection.Classify(args.Outcome.Exception, teamClassifier, timeProvider);

                // A service that asks for a longer wait than the method allows would hold every caller of the
                // execution for that long; failing now hands the failure to the fallback or the caller instead.
                bool retry = verdict.Kind == FailureKind.Transient && !(verdict.RetryAfter > maxRetryAfter);
                if (retry)
                {
                    args.Context.Properties.Set(s_retryAfter, verdict.RetryAfter);
                }

                return new ValueTask<bool>(retry);
            },

            // Null keeps the exponential backoff; a service's Retry-After, already checked against the cap, replaces it.
            DelayGenerator = args => new ValueTask<TimeSpan?>(
                args.Context.Properties.TryGetValue(s_retryAfter, out TimeSpan? retryAfter) ? retryAfter : null),
        };
    }
}
