using System;
using LlmGuard.Caching;
using LlmGuard.Configuration;
using LlmGuard.Failures;
using LlmGuard.Infrastructure;
using LlmGuard.Internal;
using LlmGuard.Protection;
using LlmGuard.Telemetry;
using Polly;

namespace LlmGuard.Execution;

/// <summary>
/// What the calls of one guarded method start under: its effective settings (the attribute's constants overridden by
/// the runtime's scene options), and the attempts pipeline and merge windows built from them. A call reads the policy
/// once, when it starts, and keeps it to its end.
/// </summary>
internal sealed class MethodPolicy<TResult>
{
    private MethodPolicy(GuardedMethod<TResult> method, GuardRuntime runtime, MethodPolicy<TResult>? previous)
    {
        runtime.CountPolicyBuild();
        Method = method;
        Runtime = runtime;
        Scene = method.Scene;
        Telemetry = runtime.Telemetry;
        ExecutionActivityName = "llmguard.execution " + method.Scene;

        SceneOverrides overrides = runtime.SceneOverridesFor(method.Scene);
        TimeoutMs = overrides.TimeoutMs ?? method.TimeoutMs;
        MaxRetries = overrides.MaxRetries ?? method.MaxRetries;
        RetryDelayMs = overrides.RetryDelayMs ?? method.RetryDelayMs;
        MaxRetryAfterMs = overrides.MaxRetryAfterMs ?? method.MaxRetryAfterMs;
        MergeWindowMs = overrides.MergeWindowMs ?? method.MergeWindowMs;
        MergeMaxWaitMs = overrides.MergeMaxWaitMs ?? method.MergeMaxWaitMs;
        CacheSeconds = overrides.CacheSeconds ?? method.CacheSeconds;
        if (CacheSeconds > 0 && method.CacheVersion.Length > 0)
        {
            if (runtime.HybridCache is { } cache)
            {
                Cache = new ResultCache<TResult>(cache, method.Scene, method.CacheVersion, CacheSeconds, Telemetry.Logger);
                Semantic = CreateSemanticCache(this, overrides, previous);
            }
            else if (Telemetry.Logger is { } logger)
            {
                CachingLog.CacheUnavailable(logger, method.Scene, CacheSeconds);
            }
        }

        // A merge window's execution answers the calls it collected, which differ per instance, while its key names only
        // the window: shared by that key, one instance's batch would answer another's callers. Windows stay per instance.
        Distributed = overrides.Distributed == true && MergeWindowMs <= 0 ? runtime.DistributedFlights : null;
        Pipeline = BuildPipeline(this, runtime);
        Protection = runtime.ProtectionFor(method.Scene, ProtectionSettings.Of(overrides, method));
        if (previous?.Merges is { } merges && previous.MergeWindowMs == MergeWindowMs && previous.MergeMaxWaitMs == MergeMaxWaitMs)
        {
            // Unchanged merge settings keep the windows, so a reload of other settings never splits an open window in two.
            Merges = merges;
        }
        else if (MergeWindowMs > 0)
        {
            Merges = new MergeWindow<TResult>(runtime.TimeProvider, MergeWindowMs, method.MergeMode, MergeMaxWaitMs, method.Supersede);
        }
    }

    /// <summary>Gets the guarded method: its scene and the reader of its results' token usage.</summary>
    public GuardedMethod<TResult> Method { get; }

    /// <summary>Gets the runtime the method's calls run on.</summary>
    public GuardRuntime Runtime { get; }

    /// <summary>Gets the scene of the method, the <c>llmguard.scene</c> of its telemetry.</summary>
    public string Scene { get; }

    /// <summary>Gets the runtime's telemetry, which the method's calls, executions and attempts report to.</summary>
    public GuardTelemetry Telemetry { get; }

    /// <summary>Gets the name of the activity of each execution, built once rather than per execution.</summary>
    public string ExecutionActivityName { get; }

    public int TimeoutMs { get; }

    public int MaxRetries { get; }

    public int RetryDelayMs { get; }

    public int MaxRetryAfterMs { get; }

    public int MergeWindowMs { get; }

    public int MergeMaxWaitMs { get; }

    public int CacheSeconds { get; }

    /// <summary>
    /// Gets where successful answers are stored and read; <see langword="null"/> when the method caches nothing, or
    /// the runtime has no <see cref="Microsoft.Extensions.Caching.Hybrid.HybridCache"/>, or the method's generated code
    /// carries no cache version (configuration turned caching on for a method compiled without it).
    /// </summary>
    public ResultCache<TResult>? Cache { get; }

    /// <summary>
    /// Gets the semantic cache, which an execution consults after the exact cache missed; <see langword="null"/> unless
    /// the method caches, its scene turns <c>SemanticCache</c> on and the runtime has an embedding generator.
    /// </summary>
    public SemanticCache<TResult>? Semantic { get; }

    /// <summary>
    /// Gets the attempts pipeline: retries on transient failures around a per-attempt timeout, and a bounded wait for
    /// a core that ignores its cancelled token.
    /// </summary>
    public AttemptPipeline Pipeline { get; }

    /// <summary>
    /// Gets the scene's breaker and limits, shared with the scene's other methods on this runtime; <see langword="null"/>
    /// when the scene has none, and then an execution pays one field read for them.
    /// </summary>
    public SceneProtection? Protection { get; }

    /// <summary>
    /// Gets the hook that shares the method's executions with other instances; <see langword="null"/> unless the scene
    /// turns <c>Distributed</c> on and the runtime has one.
    /// </summary>
    public Distribution.IDistributedFlights? Distributed { get; }

    /// <summary>Gets the merge windows, by key; <see langword="null"/> when the method merges no calls.</summary>
    public MergeWindow<TResult>? Merges { get; }

    /// <summary>Builds the policy from the method and the runtime's current scene options.</summary>
    /// <param name="method">The guarded method.</param>
    /// <param name="runtime">The runtime whose options override the method's constants.</param>
    /// <param name="previous">The policy this one replaces, whose merge windows are kept when their settings did not change.</param>
    public static MethodPolicy<TResult> Create(GuardedMethod<TResult> method, GuardRuntime runtime, MethodPolicy<TResult>? previous = null) =>
        new(method, runtime, previous);

    private static SemanticCache<TResult>? CreateSemanticCache(MethodPolicy<TResult> policy, SceneOverrides overrides, MethodPolicy<TResult>? previous)
    {
        if (overrides.SemanticCache != true)
        {
            return null;
        }

        GuardRuntime runtime = policy.Runtime;
        if (runtime.EmbeddingGenerator is not { } generator)
        {
            // Once per policy: on the method's first call, and again only when a reload changes its scene.
            if (policy.Telemetry.Logger is { } logger)
            {
                SemanticCacheLog.NoEmbeddingGenerator(logger, policy.Scene);
            }

            return null;
        }

        // The entries outlive a reload: they were answered under the same key rules, and a changed threshold applies to them.
        int maxEntries = overrides.SemanticMaxEntries ?? GuardLimits.DefaultSemanticMaxEntries;
        SemanticStore<TResult> store = previous?.Semantic?.Store ?? new SemanticStore<TResult>(maxEntries);
        store.MaxEntries = maxEntries;
        return new SemanticCache<TResult>(
            generator,
            store,
            runtime.TimeProvider,
            policy.Scene,
            overrides.SemanticThreshold ?? GuardLimits.DefaultSemanticThreshold,
            policy.CacheSeconds,
            policy.TimeoutMs);
    }

    private static AttemptPipeline BuildPipeline(MethodPolicy<TResult> policy, GuardRuntime runtime)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = runtime.TimeProvider };
        if (policy.MaxRetries > 0)
        {
            builder.AddRetry(AttemptRetries.Create(policy.Scene, policy.MaxRetries, policy.RetryDelayMs, policy.MaxRetryAfterMs, runtime));
        }

        // Added after the retry, so it is inside it: the timeout applies to each attempt, not to all of them.
        if (policy.TimeoutMs > 0)
        {
            builder.AddTimeout(TimeSpan.FromMilliseconds(policy.TimeoutMs));
        }

        return new AttemptPipeline(builder.Build(), runtime, policy.Scene, retries: policy.MaxRetries > 0);
    }
}
