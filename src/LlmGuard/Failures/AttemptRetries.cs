using System;
using System.Runtime.CompilerServices;
using System.Threading.Tasks;
using LlmGuard.Protection;
using LlmGuard.Telemetry;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace LlmGuard.Failures;

/// <summary>Builds the retry strategy of a guarded method's attempts from its constants and the runtime's classifier.</summary>
internal static class AttemptRetries
{
    // The verdict that made ShouldHandle retry, for the delay generator that Polly calls next: classifying once keeps
    // a team classifier from being asked twice and an HTTP-date Retry-After from being read against two clocks.
    private static readonly ResiliencePropertyKey<TimeSpan?> s_retryAfter = new("LlmGuard.RetryAfter");

    public static RetryStrategyOptions Create(string scene, int maxRetries, int retryDelayMs, int maxRetryAfterMs, GuardRuntime runtime)
    {
        GuardTelemetry telemetry = runtime.Telemetry;
        ILogger? logger = telemetry.Logger;
        FailureClassifier? teamClassifier = runtime.FailureClassifier;
        TimeProvider timeProvider = runtime.TimeProvider;
        TimeSpan maxRetryAfter = TimeSpan.FromMilliseconds(maxRetryAfterMs);
        return new RetryStrategyOptions
        {
            MaxRetryAttempts = maxRetries,
            Delay = TimeSpan.FromMilliseconds(retryDelayMs),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            // Polly asks this after every attempt, so it is where attempts are counted, with the one verdict that
            // also decides the retry.
            ShouldHandle = args =>
            {
                if (args.Outcome.Exception is null)
                {
                    telemetry.RecordAttempt(scene, AttemptResults.Success);
                    return new ValueTask<bool>(false);
                }

                // Noted even when the callers left just after the failure: the model did fail this execution.
                if (args.Outcome.Exception is not OperationCanceledException
                    && args.Context.Properties.TryGetValue(SceneProtection.FailedAttempt, out StrongBox<bool>? failedAttempt))
                {
                    failedAttempt.Value = true;
                }

                // Every caller left: the attempt ended neither well nor badly, and is not counted.
                if (args.Context.CancellationToken.IsCancellationRequested)
                {
                    return new ValueTask<bool>(false);
                }

                FailureClassification verdict = FailureInspection.Classify(args.Outcome.Exception, teamClassifier, timeProvider);
                AttemptTelemetry.Record(telemetry, scene, args.Outcome.Exception, verdict, args.AttemptNumber + 1, args.Context);

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

            // Without a logger Polly skips the callback altogether.
            OnRetry = logger is null ? null : args =>
            {
                if (logger.IsEnabled(LogLevel.Information))
                {
                    string? keyHash = ExecutionObservation.KeyHashOf(args.Context);
                    string reason = args.Outcome.Exception is TimeoutRejectedException || Streaming.StreamDeadline.IsDeadline(args.Outcome.Exception)
                        ? AttemptResults.Timeout
                        : AttemptResults.Transient;
                    GuardLog.RetryScheduled(logger, args.AttemptNumber + 1, scene, keyHash, reason, args.RetryDelay, args.Outcome.Exception);
                }

                return default;
            },
        };
    }
}
