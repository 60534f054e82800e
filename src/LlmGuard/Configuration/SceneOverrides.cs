using System.Collections.Generic;

namespace LlmGuard.Configuration;

/// <summary>
/// A copy of one scene's <see cref="LlmSceneOptions"/>, taken when the options are applied, so a later change to the
/// options object cannot reach calls and a reload can tell which scenes changed.
/// </summary>
internal readonly record struct SceneOverrides(
    int? TimeoutMs,
    int? MaxRetries,
    int? RetryDelayMs,
    int? MaxRetryAfterMs,
    int? MergeWindowMs,
    int? MergeMaxWaitMs,
    int? CacheSeconds,
    bool? SemanticCache,
    double? SemanticThreshold,
    int? SemanticMaxEntries,
    double? BreakerFailureRatio = null,
    int? BreakerMinimumThroughput = null,
    int? BreakerSamplingMs = null,
    int? BreakerBreakMs = null,
    int? MaxConcurrency = null,
    int? MaxQueue = null,
    int? RateLimit = null,
    int? RateLimitWindowMs = null,
    int? TenantMaxConcurrency = null,
    int? TenantRateLimit = null,
    int? FirstItemTimeoutMs = null,
    int? IdleTimeoutMs = null,
    int? StreamReplayItems = null,
    bool? Distributed = null)
{
    public static SceneOverrides From(LlmSceneOptions options) =>
        new(options.TimeoutMs, options.MaxRetries, options.RetryDelayMs, options.MaxRetryAfterMs, options.MergeWindowMs, options.MergeMaxWaitMs, options.CacheSeconds,
            options.SemanticCache, options.SemanticThreshold, options.SemanticMaxEntries,
            options.BreakerFailureRatio, options.BreakerMinimumThroughput, options.BreakerSamplingMs, options.BreakerBreakMs,
            options.MaxConcurrency, options.MaxQueue, options.RateLimit, options.RateLimitWindowMs, options.TenantMaxConcurrency, options.TenantRateLimit,
            options.FirstItemTimeoutMs, options.IdleTimeoutMs, options.StreamReplayItems, options.Distributed);

    public static Dictionary<string, SceneOverrides> Snapshot(LlmGuardOptions? options)
    {
        var scenes = new Dictionary<string, SceneOverrides>(System.StringComparer.Ordinal);
        if (options is not null)
        {
            foreach (KeyValuePair<string, LlmSceneOptions> scene in options.Scenes)
            {
                if (scene.Value is not null)
                {
                    scenes[scene.Key] = From(scene.Value);
                }
            }
        }

        return scenes;
    }
}
