using System;

namespace LlmGuard.Configuration;

/// <summary>
/// One guarded method as the generator saw it: its scene and the compile-time values of its
/// <see cref="GuardedAttribute"/>, which configuration of the scene overrides.
/// </summary>
/// <remarks>Generated code creates these in the assembly's <c>LlmGuardScenes.g.cs</c>; applications read them through <see cref="GuardSceneManifest"/>.</remarks>
public sealed class GuardScene
{
    /// <summary>Creates the description of one guarded method.</summary>
    /// <param name="scene">The method's scene.</param>
    /// <param name="method">The method's name, as <c>Namespace.Type.Method</c>.</param>
    /// <param name="timeoutMs">The per-attempt timeout in milliseconds; 0 for none.</param>
    /// <param name="maxRetries">How many times a transient failure is retried.</param>
    /// <param name="retryDelayMs">The median delay before the first retry in milliseconds.</param>
    /// <param name="maxRetryAfterMs">The longest <c>Retry-After</c> a retry waits for, in milliseconds.</param>
    /// <param name="mergeWindowMs">The merge window in milliseconds; 0 for none.</param>
    /// <param name="mergeMode">Whether each call restarts the merge window.</param>
    /// <param name="mergeMaxWaitMs">The longest a sliding merge window stays open, in milliseconds.</param>
    /// <param name="cacheSeconds">How long a successful answer stays cached, in seconds; 0 for no caching.</param>
    /// <param name="semanticText">Whether the method has a <see cref="SemanticCacheTextAttribute">[SemanticCacheText]</see> parameter.</param>
    /// <param name="breakerFailureRatio">The compile-time failure ratio of the scene's circuit breaker; 0 for none.</param>
    /// <exception cref="ArgumentException"><paramref name="scene"/> or <paramref name="method"/> is empty.</exception>
    public GuardScene(string scene, string method, int timeoutMs, int maxRetries, int retryDelayMs, int maxRetryAfterMs, int mergeWindowMs, MergeMode mergeMode, int mergeMaxWaitMs, int cacheSeconds = 0, bool semanticText = false, double breakerFailureRatio = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(scene);
        ArgumentException.ThrowIfNullOrEmpty(method);
        Scene = scene;
        Method = method;
        TimeoutMs = timeoutMs;
        MaxRetries = maxRetries;
        RetryDelayMs = retryDelayMs;
        MaxRetryAfterMs = maxRetryAfterMs;
        MergeWindowMs = mergeWindowMs;
        MergeMode = mergeMode;
        MergeMaxWaitMs = mergeMaxWaitMs;
        CacheSeconds = cacheSeconds;
        SemanticText = semanticText;
        BreakerFailureRatio = breakerFailureRatio;
    }

    /// <summary>Gets the method's scene, the name its configuration section has under <c>LlmGuard:Scenes</c>.</summary>
    public string Scene { get; }

    /// <summary>Gets the method's name, as <c>Namespace.Type.Method</c>.</summary>
    public string Method { get; }

    /// <summary>Gets the compile-time per-attempt timeout in milliseconds; 0 means none.</summary>
    public int TimeoutMs { get; }

    /// <summary>Gets the compile-time number of retries of a transient failure.</summary>
    public int MaxRetries { get; }

    /// <summary>Gets the compile-time median delay before the first retry in milliseconds.</summary>
    public int RetryDelayMs { get; }

    /// <summary>Gets the compile-time longest <c>Retry-After</c> a retry waits for, in milliseconds.</summary>
    public int MaxRetryAfterMs { get; }

    /// <summary>Gets the compile-time merge window in milliseconds; 0 means none.</summary>
    public int MergeWindowMs { get; }

    /// <summary>Gets whether each call restarts the merge window; not configurable at run time.</summary>
    public MergeMode MergeMode { get; }

    /// <summary>Gets the compile-time longest a sliding merge window stays open, in milliseconds.</summary>
    public int MergeMaxWaitMs { get; }

    /// <summary>Gets the compile-time time a successful answer stays cached, in seconds; 0 means no caching.</summary>
    public int CacheSeconds { get; }

    /// <summary>
    /// Gets whether the method has a <see cref="SemanticCacheTextAttribute">[SemanticCacheText]</see> parameter, without
    /// which its scene cannot turn <see cref="LlmSceneOptions.SemanticCache"/> on.
    /// </summary>
    public bool SemanticText { get; }

    /// <summary>
    /// Gets the compile-time failure ratio of the scene's circuit breaker (<see cref="GuardedAttribute.BreakerFailureRatio"/>);
    /// 0 means none, and then the scene's other <c>Breaker…</c> settings need <see cref="LlmSceneOptions.BreakerFailureRatio"/>.
    /// </summary>
    public double BreakerFailureRatio { get; }
}
