using System;
using System.ComponentModel;
using LlmGuard.Internal;

namespace LlmGuard.Infrastructure;

/// <summary>The identity of one guarded method, as seen by a <see cref="GuardRuntime"/>.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public abstract class GuardedMethod
{
    private protected GuardedMethod()
    {
    }

    /// <summary>
    /// The cache version of a method in a generic context: the compile-time version with the type arguments it runs
    /// with, so <c>ExtractAsync&lt;Invoice&gt;</c> never reads what <c>ExtractAsync&lt;Receipt&gt;</c> stored.
    /// </summary>
    /// <param name="version">The version the generator computed for the declaration.</param>
    /// <param name="typeArguments">The containing type as constructed, then the method's type arguments.</param>
    /// <returns>16 lowercase hex digits.</returns>
    public static string CacheVersionOf(string version, params Type[] typeArguments)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(typeArguments);
        var text = new System.Text.StringBuilder(version);
        foreach (Type type in typeArguments)
        {
            text.Append('|').Append(type.FullName ?? type.Name);
        }

        byte[] hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString()));
        return Convert.ToHexString(hash, 0, 8).ToLowerInvariant();
    }

    // The checks a call's and a stream's description share; each names the argument of the constructor that failed.
    private protected static void ThrowIfNotTimeout(int milliseconds, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(milliseconds))] string? name = null)
    {
        if (milliseconds != 0)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(milliseconds, GuardLimits.MinTimeoutMs, name);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(milliseconds, GuardLimits.MaxMilliseconds, name);
        }
    }

    private protected static void ThrowIfNotRetries(int maxRetries, int retryDelayMs, int maxRetryAfterMs)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetries);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRetries, GuardLimits.MaxRetries);
        ArgumentOutOfRangeException.ThrowIfNegative(retryDelayMs);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(retryDelayMs, GuardLimits.MaxMilliseconds);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetryAfterMs);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRetryAfterMs, GuardLimits.MaxMilliseconds);
    }

    private protected static void ThrowIfNotCache(int cacheSeconds, string? cacheVersion)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cacheSeconds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cacheSeconds, GuardLimits.MaxCacheSeconds);
        if (cacheSeconds > 0)
        {
            ArgumentException.ThrowIfNullOrEmpty(cacheVersion);
        }
    }

    private protected static void ThrowIfNotProtection(int maxConcurrency, double breakerFailureRatio)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxConcurrency);
        if (!(breakerFailureRatio >= 0 && breakerFailureRatio <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(breakerFailureRatio), breakerFailureRatio, "The failure ratio is 0 (no breaker) or above 0 and at most 1.");
        }
    }
}

/// <summary>
/// Describes one guarded method: its scene and the constants of its <see cref="GuardedAttribute"/>.
/// Generated code holds one in a static field and asks it for the state that belongs to a runtime.
/// </summary>
/// <typeparam name="TResult">The result the guarded method produces.</typeparam>
public sealed class GuardedMethod<TResult> : GuardedMethod
{
    private GuardedMethodState<TResult>? _lastState;

    /// <summary>Creates the description of a guarded method.</summary>
    /// <param name="scene">The scene that prefixes the method's keys.</param>
    /// <param name="timeoutMs">The per-attempt timeout in milliseconds; 0 for none, otherwise 10 to 86 400 000.</param>
    /// <param name="maxRetries">How many times a transient failure is retried, 0 to 100.</param>
    /// <param name="retryDelayMs">The median delay before the first retry in milliseconds, 0 to 86 400 000.</param>
    /// <param name="mergeWindowMs">The merge window in milliseconds, 0 to 86 400 000; 0 for none.</param>
    /// <param name="mergeMode">Whether each call restarts the merge window.</param>
    /// <param name="mergeMaxWaitMs">With <see cref="MergeMode.Sliding"/>, the longest a window stays open, from <paramref name="mergeWindowMs"/> to 86 400 000.</param>
    /// <param name="supersede">
    /// Whether a new merge window cancels the previous window's running execution and takes over its callers, up to
    /// <see cref="MergeWindow{TResult}.SupersedeCap"/>.
    /// </param>
    /// <param name="maxRetryAfterMs">The longest <c>Retry-After</c> a retry waits for in milliseconds, 0 to 86 400 000; a longer demand ends the attempts.</param>
    /// <param name="usage">
    /// Reads the tokens a successful result says it used, for budgets, prices and usage records; <see langword="null"/>
    /// when the result carries none (the core may then report them with <see cref="LlmUsage.Report"/>).
    /// </param>
    /// <param name="cacheSeconds">How long a successful answer stays in the runtime's <c>HybridCache</c>, in seconds, 0 to 2 592 000; 0 for no caching.</param>
    /// <param name="cacheVersion">
    /// The hash of the method's signature and result type the generator computed; part of every cache key, so a build that
    /// changes them never reads older entries. Required when <paramref name="cacheSeconds"/> is more than 0.
    /// </param>
    /// <param name="fallbackScene">
    /// The scene of the [Guarded] method the method's <c>Fallback</c> names, when it names one (a fallback chain);
    /// <see langword="null"/> for a plain fallback or none. <c>llmguard.fallbacks</c> tags the answers of the fallback with it.
    /// </param>
    /// <param name="maxConcurrency">How many executions of the scene run at once, 0 or more; 0 for no limit.</param>
    /// <param name="breakerFailureRatio">The failure ratio that opens the scene's circuit breaker, 0 to 1; 0 for no breaker.</param>
    /// <param name="version">
    /// A hash of the method's signature, key template and result type, which keys the executions a <c>Distributed</c> scene
    /// shares across instances; <paramref name="cacheVersion"/> serves when it is <see langword="null"/>. The generator writes it.
    /// </param>
    /// <exception cref="ArgumentException"><paramref name="scene"/> is empty, or <paramref name="cacheVersion"/> is empty while <paramref name="cacheSeconds"/> is more than 0.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A number is outside its range.</exception>
    public GuardedMethod(
        string scene,
        int timeoutMs,
        int maxRetries,
        int retryDelayMs,
        int mergeWindowMs = 0,
        MergeMode mergeMode = MergeMode.Fixed,
        int mergeMaxWaitMs = 0,
        bool supersede = false,
        int maxRetryAfterMs = GuardedAttribute.DefaultMaxRetryAfterMs,
        Func<TResult, LlmTokenUsage>? usage = null,
        int cacheSeconds = 0,
        string? cacheVersion = null,
        string? fallbackScene = null,
        int maxConcurrency = 0,
        double breakerFailureRatio = 0,
        string? version = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(scene);
        ThrowIfNotTimeout(timeoutMs);
        ThrowIfNotRetries(maxRetries, retryDelayMs, maxRetryAfterMs);

        ArgumentOutOfRangeException.ThrowIfNegative(mergeWindowMs);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(mergeWindowMs, GuardLimits.MaxMilliseconds);
        if (mergeWindowMs > 0 && mergeMode == MergeMode.Sliding)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(mergeMaxWaitMs, mergeWindowMs);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(mergeMaxWaitMs, GuardLimits.MaxMilliseconds);
        }

        ThrowIfNotCache(cacheSeconds, cacheVersion);
        ThrowIfNotProtection(maxConcurrency, breakerFailureRatio);

        Scene = scene;
        MaxConcurrency = maxConcurrency;
        BreakerFailureRatio = breakerFailureRatio;
        CacheSeconds = cacheSeconds;
        CacheVersion = cacheVersion ?? string.Empty;
        Version = string.IsNullOrEmpty(version) ? CacheVersion : version;
        MergeWindowMs = mergeWindowMs;
        MergeMode = mergeMode;
        MergeMaxWaitMs = mergeMaxWaitMs;
        Supersede = supersede;
        TimeoutMs = timeoutMs;
        MaxRetries = maxRetries;
        RetryDelayMs = retryDelayMs;
        MaxRetryAfterMs = maxRetryAfterMs;
        Usage = usage;
        FallbackScene = fallbackScene;
    }

    /// <summary>Gets the scene that prefixes the method's keys.</summary>
    public string Scene { get; }

    /// <summary>Gets the per-attempt timeout in milliseconds; 0 means none.</summary>
    public int TimeoutMs { get; }

    /// <summary>Gets how many times a transient failure is retried.</summary>
    public int MaxRetries { get; }

    /// <summary>Gets the median delay before the first retry in milliseconds.</summary>
    public int RetryDelayMs { get; }

    /// <summary>Gets the longest <c>Retry-After</c> a retry waits for, in milliseconds.</summary>
    public int MaxRetryAfterMs { get; }

    /// <summary>Gets the merge window in milliseconds; 0 means none.</summary>
    public int MergeWindowMs { get; }

    /// <summary>Gets whether each call restarts the merge window.</summary>
    public MergeMode MergeMode { get; }

    /// <summary>Gets the longest a sliding merge window stays open, in milliseconds.</summary>
    public int MergeMaxWaitMs { get; }

    /// <summary>Gets whether a new merge window supersedes the previous window's running execution.</summary>
    public bool Supersede { get; }

    /// <summary>Gets how long a successful answer stays cached, in seconds; 0 means no caching.</summary>
    public int CacheSeconds { get; }

    /// <summary>Gets the hash of the method's signature and result type that versions its cache keys; empty when it caches nothing.</summary>
    public string CacheVersion { get; }

    /// <summary>
    /// Gets the hash of the method's signature, key template and result type (<c>cacheVersion</c> when only that was
    /// given); empty for a method described without one. It keys the executions a <c>Distributed</c> scene shares across
    /// instances, so that two methods of one scene with equal guard keys, or two builds of one method, never answer each
    /// other's callers.
    /// </summary>
    public string Version { get; }

    /// <summary>Gets the scene of the guarded method that is this method's fallback, or <see langword="null"/> when the fallback is a plain method or there is none.</summary>
    public string? FallbackScene { get; }
    /// <summary>Gets how many executions of the scene run at once; 0 means no limit.</summary>
    public int MaxConcurrency { get; }

    /// <summary>Gets the failure ratio that opens the scene's circuit breaker; 0 means no breaker.</summary>
    public double BreakerFailureRatio { get; }

    /// <summary>Gets what reads the tokens a result used, or <see langword="null"/> when results carry none.</summary>
    internal Func<TResult, LlmTokenUsage>? Usage { get; }

    /// <summary>Gets the state this method has on <paramref name="runtime"/>, creating it on first use.</summary>
    /// <param name="runtime">The runtime the call runs on.</param>
    /// <returns>The calls in flight and the resilience pipeline of this method on that runtime.</returns>
    public GuardedMethodState<TResult> For(GuardRuntime runtime)
    {
        // Almost every method runs on one runtime: remembering the last one skips the runtime's lookup.
        GuardedMethodState<TResult>? last = _lastState;
        if (last is not null && ReferenceEquals(last.Runtime, runtime))
        {
            return last;
        }

        ArgumentNullException.ThrowIfNull(runtime);
        return _lastState = runtime.GetState(this);
    }

    internal GuardedMethodState<TResult> CreateState(GuardRuntime runtime) => new(this, runtime);
}
