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
    int? SemanticMaxEntries)
{
    public static SceneOverrides From(LlmSceneOptions options) =>
        new(options.TimeoutMs, options.MaxRetries, options.RetryDelayMs, options.MaxRetryAfterMs, options.MergeWindowMs, options.MergeMaxWaitMs, options.CacheSeconds,
            options.SemanticCache, options.SemanticThreshold, options.SemanticMaxEntries);

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
