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
    /// <exception cref="ArgumentException"><paramref name="scene"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A number is outside its range.</exception>
    public GuardedStreamMethod(
        string scene,
        int firstItemTimeoutMs,
        int idleTimeoutMs,
        int maxRetries,
        int retryDelayMs,
        int maxRetryAfterMs = GuardedAttribute.DefaultMaxRetryAfterMs)
    {
        ArgumentException.ThrowIfNullOrEmpty(scene);
        ThrowIfNotTimeout(firstItemTimeoutMs);
        ThrowIfNotTimeout(idleTimeoutMs);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetries);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRetries, GuardLimits.MaxRetries);
        ArgumentOutOfRangeException.ThrowIfNegative(retryDelayMs);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(retryDelayMs, GuardLimits.MaxMilliseconds);
        ArgumentOutOfRangeException.ThrowIfNegative(maxRetryAfterMs);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRetryAfterMs, GuardLimits.MaxMilliseconds);

        Scene = scene;
        FirstItemTimeoutMs = firstItemTimeoutMs;
        IdleTimeoutMs = idleTimeoutMs;
        MaxRetries = maxRetries;
        RetryDelayMs = retryDelayMs;
        MaxRetryAfterMs = maxRetryAfterMs;
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

    private static void ThrowIfNotTimeout(int milliseconds, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(milliseconds))] string? name = null)
    {
        if (milliseconds != 0)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(milliseconds, GuardLimits.MinTimeoutMs, name);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(milliseconds, GuardLimits.MaxMilliseconds, name);
        }
    }
}
