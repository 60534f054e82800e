using System;
using Microsoft.Extensions.Logging;

namespace LlmGuard.Caching;

/// <summary>The log events of the semantic cache; their ids are stable API, documented in docs/production.md.</summary>
internal static partial class SemanticCacheLog
{
    [LoggerMessage(EventId = 15, EventName = "SemanticEmbeddingFailed", Level = LogLevel.Warning,
        Message = "The semantic cache of scene {Scene} could not embed a call's text; the execution runs the core as a cache miss.")]
    public static partial void EmbeddingFailed(ILogger logger, string scene, Exception exception);

    [LoggerMessage(EventId = 16, EventName = "SemanticCacheWithoutEmbeddingGenerator", Level = LogLevel.Warning,
        Message = "Scene {Scene} turns SemanticCache on, but the runtime has no embedding generator; its calls use the exact cache only.")]
    public static partial void NoEmbeddingGenerator(ILogger logger, string scene);
}
