using System;
using Microsoft.Extensions.Logging;

namespace LlmGuard.Telemetry;

/// <summary>
/// The log events of executions and attempts. Their ids are stable API, listed in docs/production.md; 5-7 belong to
/// the circuit breaker, 8-9 and 12 to usage accounting, 10-11 to configuration and 13-17 to caching. A key appears only as its
/// <see cref="KeyHash"/>; arguments and prompts never appear.
/// </summary>
internal static partial class GuardLog
{
    [LoggerMessage(EventId = 1, EventName = "ExecutionFailed", Level = LogLevel.Error,
        Message = "Execution of scene {Scene} for key {KeyHash} failed after every attempt; its callers receive the exception")]
    public static partial void ExecutionFailed(ILogger logger, string scene, string? keyHash, Exception exception);

    [LoggerMessage(EventId = 2, EventName = "RetryScheduled", Level = LogLevel.Information,
        Message = "Attempt {AttemptNumber} of scene {Scene} for key {KeyHash} failed ({Reason}); retrying in {Delay}")]
    public static partial void RetryScheduled(ILogger logger, int attemptNumber, string scene, string? keyHash, string reason, TimeSpan delay, Exception? exception);

    [LoggerMessage(EventId = 3, EventName = "AttemptTimedOut", Level = LogLevel.Warning,
        Message = "Attempt {AttemptNumber} of scene {Scene} for key {KeyHash} timed out")]
    public static partial void AttemptTimedOut(ILogger logger, int attemptNumber, string scene, string? keyHash);

    [LoggerMessage(EventId = 4, EventName = "FallbackUsed", Level = LogLevel.Warning,
        Message = "Scene {Scene} answered key {KeyHash} with its fallback")]
    public static partial void FallbackUsed(ILogger logger, string scene, string? keyHash, Exception exception);
}
