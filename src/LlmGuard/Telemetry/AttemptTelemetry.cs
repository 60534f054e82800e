using System;
using LlmGuard.Failures;
using Polly;
using Polly.Timeout;

namespace LlmGuard.Telemetry;

/// <summary>Reports one failed attempt, from the verdict the retry decision already made.</summary>
internal static class AttemptTelemetry
{
    public static void Record(GuardTelemetry telemetry, string scene, Exception failure, FailureClassification verdict, int attemptNumber, ResilienceContext context)
    {
        // Polly's timeout turns the attempt's cancellation into this exception, so it names a timeout and nothing else; a
        // stream's first-item deadline raises one of its own.
        bool timedOut = failure is TimeoutRejectedException || Streaming.StreamDeadline.IsDeadline(failure);
        telemetry.RecordAttempt(
            scene,
            timedOut ? AttemptResults.Timeout : verdict.Kind == FailureKind.Transient ? AttemptResults.Transient : AttemptResults.Failure);
        if (timedOut && telemetry.Logger is { } logger)
        {
            GuardLog.AttemptTimedOut(logger, attemptNumber, scene, ExecutionObservation.KeyHashOf(context));
        }
    }
}
