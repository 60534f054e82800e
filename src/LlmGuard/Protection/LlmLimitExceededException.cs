namespace LlmGuard.Protection;

/// <summary>
/// The exception a guarded call without a fallback receives when its scene's concurrency limit (with a full queue) or
/// rate limit refused its execution: the load was shed and the core was not called.
/// </summary>
public sealed class LlmLimitExceededException : LlmCallRejectedException
{
    /// <summary>The value of <see cref="Limit"/> when every concurrency permit was taken and the queue was full.</summary>
    public const string Concurrency = "MaxConcurrency";

    /// <summary>The value of <see cref="Limit"/> when the rate limit's window had no permit left.</summary>
    public const string Rate = "RateLimit";

    /// <summary>The value of <see cref="Limit"/> when the tenant already had its <c>TenantMaxConcurrency</c> executions in flight.</summary>
    public const string TenantConcurrency = "TenantMaxConcurrency";

    /// <summary>The value of <see cref="Limit"/> when the tenant's rate limit had no permit left in its window.</summary>
    public const string TenantRate = "TenantRateLimit";

    /// <summary>Creates the exception for the limit <paramref name="limit"/> of <paramref name="scene"/>.</summary>
    /// <param name="scene">The scene whose limit refused the execution.</param>
    /// <param name="limit">The setting that refused it: <see cref="Concurrency"/>, <see cref="Rate"/>, <see cref="TenantConcurrency"/> or <see cref="TenantRate"/>.</param>
    public LlmLimitExceededException(string scene, string limit)
        : base(scene, $"The {limit} of scene '{scene}' is reached: the execution was rejected without calling the core.")
    {
        Limit = limit;
    }

    /// <summary>Gets the setting that refused the execution: <see cref="Concurrency"/>, <see cref="Rate"/>, <see cref="TenantConcurrency"/> or <see cref="TenantRate"/>.</summary>
    public string Limit { get; }
}
