using System;
using System.Threading.Tasks;
using Polly;
using Polly.Retry;

namespace LlmGuard.Failures;

/// <summary>Builds the retry strategy of a guarded method's attempts from its constants and the runtime's classifier.</summary>
internal static class AttemptRetries
{
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
            ShouldHandle = args => new ValueTask<bool>(
                !args.Context.CancellationToken.IsCancellationRequested
                && ShouldRetry(FailureInspection.Classify(args.Outcome.Exception, teamClassifier, timeProvider), maxRetryAfter)),

            // Null keeps the exponential backoff; a service's Retry-After replaces it. ShouldRetry already refused
            // a demand over the cap, so what arrives here is within it.
            DelayGenerator = args => new ValueTask<TimeSpan?>(
                FailureInspection.Classify(args.Outcome.Exception, teamClassifier, timeProvider).RetryAfter),
        };
    }

    // A service that asks for a longer wait than the method allows would hold every caller of the execution for
    // that long; failing now hands the failure to the fallback or the caller instead.
    private static bool ShouldRetry(FailureClassification verdict, TimeSpan maxRetryAfter) =>
        verdict.Kind == FailureKind.Transient && !(verdict.RetryAfter > maxRetryAfter);
}
