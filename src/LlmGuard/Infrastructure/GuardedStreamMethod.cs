using System;
using LlmGuard.Internal;

namespace LlmGuard.Infrastructure;

/// <summary>
/// Describes one guarded streaming method: its scene, the deadlines of its items and its retries before the first
/// item. Generated code holds one in a static field and asks it for the state that belongs to a runtime.
/// </summary>
/// <remarks>
/// A deadline that passes cancels the attempt's token, as a guarded call's attempt timeout does: a core that ignores
/// its token keeps the stream waiting until it produces or ends.
/// </remarks>
/// <typeparam name="T">The items the stream produces.</typeparam>
public sealed class GuardedStreamMethod<T> : GuardedMethod
{
    private GuardedStreamMethodState<T>? _lastState;

    /// <summary>Creates the description of a guarded streaming method.</summary>
    /// <param name="scene">The scene that prefixes the method's keys.</param>
    /// <param name="firstItemTimeoutMs">How long an attempt may take to produce its first item, in milliseconds; 0 for no limit, otherwise 10 to 86 400 000.</param>
    /// <param name="idleTimeoutMs">How long the stream may go without an item after the first, in milliseconds; 0 for no limit, otherwise 10 to 86 400 000.</param>
    /// <param name="maxRetries">How many times a transient failure before the first item is retried, 0 to 100.</param>
    /// <param name="retryDelayMs">The median delay before the first retry in milliseconds, 0 to 86 400 000.</param>
    /// <param name="maxRetryAfterMs">The longest <c>Retry-After</c> a retry waits for in milliseconds, 0 to 86 400 000; a longer demand ends the attempts.</param>
    /// <param name="replayItems">How many items the shared stream of a key keeps for consumers that join late or read slowly, 1 to 1 000 000.</param>
    /// <param name="cacheSeconds">
    /// How long a stream that completed is kept whole in the runtime's <c>HybridCache</c>, in seconds, 0 to 2 592 000; 0 for no caching.
    /// </param>
    /// <param name="cacheVersion">
    /// The hash of the method's signature and item type the generator computed; part of every cache key, so a build that
    /// changes them never reads older entries. Required when <paramref name="cacheSeconds"/> is more than 0.
    /// </param>
    /// <param name="fallbackScene">
    /// The scene of the [Guarded] method the method's <c>Fallback</c> names, when it names one (a fallback chain);
    /// <see langword="null"/> for a plain fallback or none.
    /// </param>
    /// <param name="maxConcurrency">How many executions of the scene run at once, 0 or more; 0 for no limit. A stream holds its permit until its upstream ends.</param>
    /// <param name="breakerFailureRatio">The failure ratio that opens the scene's circuit breaker, 0 to 1; 0 for no breaker.</param>
    /// <exception cref="ArgumentException"><paramref name="scene"/> is empty, or <paramref name="cacheVersion"/> is empty while <paramref name="cacheSeconds"/> is more than 0.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A number is outside its range.</exception>
    public GuardedStreamMethod(
        string scene,
        int firstItemTimeoutMs,
        int idleTimeoutMs,
        int maxRetries,
        int retryDelayMs,
        int maxRetryAfterMs = GuardedAttribute.DefaultMaxRetryAfterMs,
        int replayItems = GuardedAttribute.DefaultStreamReplayItems,
        int cacheSeconds = 0,
        string? cacheVersion = null,
        string? fallbackScene = null,
        int maxConcurrency = 0,
        double breakerFailureRatio = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(scene);
        ThrowIfNotTimeout(firstItemTimeoutMs);
        ThrowIfNotTimeout(idleTimeoutMs);
        ThrowIfNotRetries(maxRetries, retryDelayMs, maxRetryAfterMs);
        ArgumentOutOfRangeException.ThrowIfLessThan(replayItems, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(replayItems, GuardLimits.MaxStreamReplayItems);
        ThrowIfNotCache(cacheSeconds, cacheVersion);
        ThrowIfNotProtection(maxConcurrency, breakerFailureRatio);

        Scene = scene;
        FirstItemTimeoutMs = firstItemTimeoutMs;
        IdleTimeoutMs = idleTimeoutMs;
        MaxRetries = maxRetries;
        RetryDelayMs = retryDelayMs;
        MaxRetryAfterMs = maxRetryAfterMs;
        ReplayItems = replayItems;
        CacheSeconds = cacheSeconds;
        CacheVersion = cacheVersion ?? string.Empty;
        FallbackScene = fallbackScene;
        MaxConcurrency = maxConcurrency;
        BreakerFailureRatio = breakerFailureRatio;
    }

    /// <summary>Gets the scene that prefixes the method's keys.</summary>
    public string Scene { get; }

    /// <summary>Gets how long an attempt may take to produce its first item, in milliseconds; 0 means no limit.</summary>
    public int FirstItemTimeoutMs { get; }

    /// <summary>Gets how long the stream may go without an item after the first, in milliseconds; 0 means no limit.</summary>
    public int IdleTimeoutMs { get; }

    /// <summary>Gets how many times a transient failure before the first item is retried.</summary>
    public int MaxRetries { get; }

    /// <summary>Gets the median delay before the first retry in milliseconds.</summary>
    public int RetryDelayMs { get; }

    /// <summary>Gets the longest <c>Retry-After</c> a retry waits for, in milliseconds.</summary>
    public int MaxRetryAfterMs { get; }

    /// <summary>Gets how many items the shared stream of a key keeps for consumers that join late or read slowly.</summary>
    public int ReplayItems { get; }

    /// <summary>Gets how long a completed stream stays cached, in seconds; 0 means no caching.</summary>
    public int CacheSeconds { get; }

    /// <summary>Gets the hash of the method's signature and item type that versions its cache keys; empty when it caches nothing.</summary>
    public string CacheVersion { get; }

    /// <summary>Gets the scene of the guarded method that is this method's fallback, or <see langword="null"/> when the fallback is a plain method or there is none.</summary>
    public string? FallbackScene { get; }

    /// <summary>Gets how many executions of the scene run at once; 0 means no limit.</summary>
    public int MaxConcurrency { get; }

    /// <summary>Gets the failure ratio that opens the scene's circuit breaker; 0 means no breaker.</summary>
    public double BreakerFailureRatio { get; }

    /// <summary>Gets the state this method has on <paramref name="runtime"/>, creating it on first use.</summary>
    /// <param name="runtime">The runtime the call runs on.</param>
    /// <returns>The streams in flight of this method on that runtime.</returns>
    public GuardedStreamMethodState<T> For(GuardRuntime runtime)
    {
        // Almost every method runs on one runtime: remembering the last one skips the runtime's lookup.
        GuardedStreamMethodState<T>? last = _lastState;
        if (last is not null && ReferenceEquals(last.Runtime, runtime))
        {
            return last;
        }

        ArgumentNullException.ThrowIfNull(runtime);
        return _lastState = runtime.GetStreamState(this);
    }

    internal GuardedStreamMethodState<T> CreateState(GuardRuntime runtime) => new(this, runtime);
}
