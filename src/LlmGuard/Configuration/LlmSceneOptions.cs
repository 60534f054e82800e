namespace LlmGuard.Configuration;

/// <summary>
/// The settings of one scene that override the <see cref="GuardedAttribute"/> values of its guarded methods; a
/// <see langword="null"/> setting keeps the attribute's value.
/// </summary>
public sealed class LlmSceneOptions
{
    /// <summary>Gets or sets the per-attempt timeout in milliseconds; overrides <see cref="GuardedAttribute.TimeoutMs"/>.</summary>
    public int? TimeoutMs { get; set; }

    /// <summary>Gets or sets how many times a transient failure is retried; overrides <see cref="GuardedAttribute.MaxRetries"/>.</summary>
    public int? MaxRetries { get; set; }

    /// <summary>Gets or sets the median delay before the first retry in milliseconds; overrides <see cref="GuardedAttribute.RetryDelayMs"/>.</summary>
    public int? RetryDelayMs { get; set; }

    /// <summary>Gets or sets the longest honoured <c>Retry-After</c> in milliseconds; overrides <see cref="GuardedAttribute.MaxRetryAfterMs"/>.</summary>
    public int? MaxRetryAfterMs { get; set; }

    /// <summary>Gets or sets the merge window in milliseconds; overrides <see cref="GuardedAttribute.MergeWindowMs"/>.</summary>
    public int? MergeWindowMs { get; set; }

    /// <summary>Gets or sets the longest a sliding merge window stays open in milliseconds; overrides <see cref="GuardedAttribute.MergeMaxWaitMs"/>.</summary>
    public int? MergeMaxWaitMs { get; set; }

    /// <summary>
    /// Gets or sets how long a successful answer stays cached, in seconds, 0 to turn caching off; overrides
    /// <see cref="GuardedAttribute.CacheSeconds"/>.
    /// </summary>
    public int? CacheSeconds { get; set; }
}
