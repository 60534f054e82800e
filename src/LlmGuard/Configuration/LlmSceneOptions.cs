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

    /// <summary>
    /// Gets or sets whether a cached call that finds no exact answer may be answered with one stored for a similar
    /// <see cref="SemanticCacheTextAttribute">[SemanticCacheText]</see> text in the same scope; off by default. Needs an
    /// embedding generator on the runtime, and a method of the scene with a <c>[SemanticCacheText]</c> parameter.
    /// </summary>
    public bool? SemanticCache { get; set; }

    /// <summary>
    /// Gets or sets the lowest cosine similarity between two texts' embeddings that serves one's answer to the other,
    /// above 0 and at most 1; 0.92 when not set. Lower values serve more calls, and more calls whose text differs in a
    /// way that changes the answer ("cancel my order" and "don't cancel my order").
    /// </summary>
    public double? SemanticThreshold { get; set; }

    /// <summary>Gets or sets the most texts the semantic cache keeps per guarded method of the scene, 1 or more; 1000 when not set.</summary>
    public int? SemanticMaxEntries { get; set; }
}
