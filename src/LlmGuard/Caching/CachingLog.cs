using System;
using Microsoft.Extensions.Logging;

namespace LlmGuard.Caching;

/// <summary>The log events of caching; ids are stable API, listed in docs/production.md with the others.</summary>
internal static partial class CachingLog
{
    [LoggerMessage(EventId = 13, EventName = "CacheUnavailable", Level = LogLevel.Warning,
        Message = "Scene {Scene} caches answers for {CacheSeconds} s, but the runtime has no HybridCache: nothing is cached")]
    public static partial void CacheUnavailable(ILogger logger, string scene, int cacheSeconds);

    [LoggerMessage(EventId = 14, EventName = "CacheStoreFailed", Level = LogLevel.Warning,
        Message = "Scene {Scene} could not store an answer in its cache; the next caller with the key runs an execution")]
    public static partial void CacheStoreFailed(ILogger logger, string scene, Exception exception);

    [LoggerMessage(EventId = 17, EventName = "CacheReadFailed", Level = LogLevel.Warning,
        Message = "Scene {Scene} could not read its cache; the call runs as a miss")]
    public static partial void CacheReadFailed(ILogger logger, string scene, Exception exception);
}
