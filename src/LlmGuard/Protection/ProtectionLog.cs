using System;
using Microsoft.Extensions.Logging;

namespace LlmGuard.Protection;

/// <summary>
/// The log events of circuit breakers (5-7) and limits (18-19); ids are stable API, listed in docs/production.md.
/// </summary>
internal static partial class ProtectionLog
{
    [LoggerMessage(EventId = 5, EventName = "BreakerOpened", Level = LogLevel.Warning,
        Message = "Circuit breaker of scene {Scene} opened: its executions are rejected for {BreakDuration}")]
    public static partial void BreakerOpened(ILogger logger, string scene, TimeSpan breakDuration, Exception? exception);

    [LoggerMessage(EventId = 6, EventName = "BreakerHalfOpened", Level = LogLevel.Information,
        Message = "Circuit breaker of scene {Scene} is half-open: one probe execution runs, the others are rejected")]
    public static partial void BreakerHalfOpened(ILogger logger, string scene);

    [LoggerMessage(EventId = 7, EventName = "BreakerClosed", Level = LogLevel.Information,
        Message = "Circuit breaker of scene {Scene} closed: its executions run again")]
    public static partial void BreakerClosed(ILogger logger, string scene);

    [LoggerMessage(EventId = 18, EventName = "LimitReached", Level = LogLevel.Warning,
        Message = "Scene {Scene} is shedding load: its {Limit} rejected {Rejected} executions since this was last written")]
    public static partial void LimitReached(ILogger logger, string scene, string limit, long rejected);

    [LoggerMessage(EventId = 19, EventName = "ExecutionShed", Level = LogLevel.Debug,
        Message = "Scene {Scene} rejected an execution: its {Limit} is reached")]
    public static partial void ExecutionShed(ILogger logger, string scene, string limit);
}
