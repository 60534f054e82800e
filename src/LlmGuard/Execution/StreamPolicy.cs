using System;
using LlmGuard.Caching;
using LlmGuard.Configuration;
using LlmGuard.Failures;
using LlmGuard.Infrastructure;
using LlmGuard.Protection;
using LlmGuard.Telemetry;
using Polly;

namespace LlmGuard.Execution;

/// <summary>
/// What the upstreams of one guarded streaming method start under: its effective settings (the attribute's constants
/// overridden by the runtime's scene options), and the attempts pipeline, cache and protection built from them. An
/// upstream reads the policy once, when it starts, and keeps it to its end; a reload applies to the next upstream.
/// </summary>
/// <typeparam name="T">The items of the stream.</typeparam>
internal sealed class StreamPolicy<T>
{
    private StreamPolicy(GuardedStreamMethod<T> method, GuardRuntime runtime)
    {
        runtime.CountPolicyBuild();
        Method = method;
        Runtime = runtime;
        Scene = method.Scene;
        Telemetry = runtime.Telemetry;
        ExecutionActivityName = "llmguard.execution " + method.Scene;

        // A scene's TimeoutMs is the one deadline an operator already knows; it bounds both of a stream's deadlines
        // unless the scene names them apart.
        SceneOverrides overrides = runtime.SceneOverridesFor(method.Scene);
        FirstItemTimeout = TimeSpan.FromMilliseconds(overrides.FirstItemTimeoutMs ?? overrides.TimeoutMs ?? method.FirstItemTimeoutMs);
        IdleTimeout = TimeSpan.FromMilliseconds(overrides.IdleTimeoutMs ?? overrides.TimeoutMs ?? method.IdleTimeoutMs);
        ReplayItems = overrides.StreamReplayItems ?? method.ReplayItems;
        MaxRetries = overrides.MaxRetries ?? method.MaxRetries;
        int retryDelayMs = overrides.RetryDelayMs ?? method.RetryDelayMs;
        int maxRetryAfterMs = overrides.MaxRetryAfterMs ?? method.MaxRetryAfterMs;
        int cacheSeconds = overrides.CacheSeconds ?? method.CacheSeconds;
        if (cacheSeconds > 0 && method.CacheVersion.Length > 0)
        {
            if (runtime.HybridCache is { } cache)
            {
                Cache = new ResultCache<T[]>(cache, method.Scene, method.CacheVersion, cacheSeconds, Telemetry.Logger);
            }
            else if (Telemetry.Logger is { } logger)
            {
                CachingLog.CacheUnavailable(logger, method.Scene, cacheSeconds);
            }
        }

        // The same classified retry as a guarded call's attempts; the deadlines are the stream's own, per item.
        var attempts = new ResiliencePipelineBuilder { TimeProvider = runtime.TimeProvider };
        if (MaxRetries > 0)
        {
            // Polly refuses a retry strategy without retries.
            attempts.AddRetry(AttemptRetries.Create(method.Scene, MaxRetries, retryDelayMs, maxRetryAfterMs, runtime));
        }

        Attempts = attempts.Build();
        Protection = runtime.ProtectionFor(method.Scene, ProtectionSettings.Of(overrides, method.BreakerFailureRatio, method.MaxConcurrency));
    }

    /// <summary>Gets the guarded streaming method.</summary>
    public GuardedStreamMethod<T> Method { get; }

    /// <summary>Gets the runtime the method's streams run on.</summary>
    public GuardRuntime Runtime { get; }

    /// <summary>Gets the scene of the method, the <c>llmguard.scene</c> of its telemetry.</summary>
    public string Scene { get; }

    /// <summary>Gets the runtime's telemetry, which the method's consumers, upstreams and attempts report to.</summary>
    public GuardTelemetry Telemetry { get; }

    /// <summary>Gets the name of the activity of each upstream, built once rather than per upstream.</summary>
    public string ExecutionActivityName { get; }

    /// <summary>Gets how long an attempt may take to produce its first item; <see cref="TimeSpan.Zero"/> for no limit.</summary>
    public TimeSpan FirstItemTimeout { get; }

    /// <summary>Gets how long the stream may go without an item after the first; <see cref="TimeSpan.Zero"/> for no limit.</summary>
    public TimeSpan IdleTimeout { get; }

    /// <summary>Gets how many items an upstream keeps for late and slow consumers.</summary>
    public int ReplayItems { get; }

    /// <summary>Gets how many times a transient failure before the first item is retried; without retries, attempts are counted by the upstream.</summary>
    public int MaxRetries { get; }

    /// <summary>Gets the retries before the first item; the deadlines are applied by the upstream's reader.</summary>
    public ResiliencePipeline Attempts { get; }

    /// <summary>
    /// Gets where completed streams are stored whole and read; <see langword="null"/> when the method caches nothing, the
    /// runtime has no <see cref="Microsoft.Extensions.Caching.Hybrid.HybridCache"/>, or the generated code carries no
    /// cache version.
    /// </summary>
    public ResultCache<T[]>? Cache { get; }

    /// <summary>
    /// Gets the scene's breaker and limits, shared with the scene's other methods on this runtime; <see langword="null"/>
    /// when the scene has none.
    /// </summary>
    public SceneProtection? Protection { get; }

    /// <summary>Builds the policy from the method and the runtime's current scene options.</summary>
    public static StreamPolicy<T> Create(GuardedStreamMethod<T> method, GuardRuntime runtime) => new(method, runtime);
}
