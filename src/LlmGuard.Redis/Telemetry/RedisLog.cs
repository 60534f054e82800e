using System;
using Microsoft.Extensions.Logging;

namespace LlmGuard.Redis.Telemetry;

/// <summary>
/// The log events of <c>LlmGuard.Redis</c>, category <see cref="Category"/>. Their ids (101 and up, clear of the core's)
/// are stable API. An outage logs once when Redis is lost and once when it is back, never once per call; keys and
/// arguments never appear, only scenes.
/// </summary>
internal static partial class RedisLog
{
    /// <summary>The logger category of every event here.</summary>
    public const string Category = "LlmGuard.Redis";

    [LoggerMessage(EventId = 101, EventName = "RedisLost", Level = LogLevel.Warning,
        Message = "Redis lost ({Reason}): executions of Distributed scenes run on this instance until Redis answers again; next try in {Backoff}")]
    public static partial void RedisLost(ILogger logger, string reason, TimeSpan backoff, Exception? exception);

    [LoggerMessage(EventId = 102, EventName = "RedisRecovered", Level = LogLevel.Information,
        Message = "Redis answers again after {Outage}; executions of Distributed scenes are shared across instances again")]
    public static partial void RedisRecovered(ILogger logger, TimeSpan outage);

    [LoggerMessage(EventId = 103, EventName = "ResultTypeNotShared", Level = LogLevel.Warning,
        Message = "Scene {Scene} returns {ResultType}, which LlmGuardRedisOptions.TypeInfoResolver has no JSON contract for; its executions run on each instance")]
    public static partial void ResultTypeNotShared(ILogger logger, string scene, string resultType);

    [LoggerMessage(EventId = 104, EventName = "LeaseLost", Level = LogLevel.Warning,
        Message = "The lease of an execution of scene {Scene} was lost while it ran (renewals did not reach Redis, or the key expired); another instance may have run the same execution")]
    public static partial void LeaseLost(ILogger logger, string scene);
}
