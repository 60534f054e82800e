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

    /// <summary>
    /// Gets or sets the share of failed executions, above 0 and at most 1, over <see cref="BreakerSamplingMs"/> that opens
    /// the scene's circuit breaker; setting it turns the breaker on. An open breaker rejects the scene's executions
    /// without calling the core for <see cref="BreakerBreakMs"/>, then lets one probe through.
    /// </summary>
    public double? BreakerFailureRatio { get; set; }

    /// <summary>Gets or sets how many executions the sampling window needs before the breaker may open, 2 or more; 10 when not set.</summary>
    public int? BreakerMinimumThroughput { get; set; }

    /// <summary>Gets or sets the window the failure ratio is measured over in milliseconds, 500 to 86 400 000; 30 000 when not set.</summary>
    public int? BreakerSamplingMs { get; set; }

    /// <summary>Gets or sets how long an open breaker rejects executions before its probe, in milliseconds, 500 to 86 400 000; 5 000 when not set.</summary>
    public int? BreakerBreakMs { get; set; }

    /// <summary>
    /// Gets or sets how many executions of the scene run at once, 0 for no limit; an execution past it waits in a queue of
    /// <see cref="MaxQueue"/> and, when that is full, is rejected at once.
    /// </summary>
    public int? MaxConcurrency { get; set; }

    /// <summary>Gets or sets how many executions wait for a <see cref="MaxConcurrency"/> permit, oldest first; 0 (the default) rejects at once.</summary>
    public int? MaxQueue { get; set; }

    /// <summary>
    /// Gets or sets how many executions of the scene start per <see cref="RateLimitWindowMs"/>, 0 for no limit; an execution
    /// past it is rejected at once (it never waits for the next window).
    /// </summary>
    public int? RateLimit { get; set; }

    /// <summary>Gets or sets the fixed window of <see cref="RateLimit"/> in milliseconds, 1 to 86 400 000; 1 000 when not set.</summary>
    public int? RateLimitWindowMs { get; set; }

    /// <summary>
    /// Gets or sets how many executions of one tenant (<see cref="LlmCallContext.Tenant"/>; calls without one share a
    /// tenant) may be in flight at once, running or waiting in the scene's queue, 0 (no tenant limit, the default) or
    /// more; past it the tenant's next execution is refused at once. <see cref="MaxConcurrency"/> and
    /// <see cref="MaxQueue"/> still bound the whole scene.
    /// </summary>
    public int? TenantMaxConcurrency { get; set; }

    /// <summary>
    /// Gets or sets how many executions of one tenant may start per <see cref="RateLimitWindowMs"/>, 0 (no tenant limit,
    /// the default) or more; <see cref="RateLimit"/> still bounds the whole scene.
    /// </summary>
    public int? TenantRateLimit { get; set; }

    /// <summary>
    /// Gets or sets how long an attempt of a guarded stream may take to produce its first item, in milliseconds, 0 for
    /// no limit; overrides <see cref="GuardedAttribute.FirstItemTimeoutMs"/>. When not set, the scene's
    /// <see cref="TimeoutMs"/> does, when that is set.
    /// </summary>
    public int? FirstItemTimeoutMs { get; set; }

    /// <summary>
    /// Gets or sets how long a guarded stream may go without an item after the first, in milliseconds, 0 for no limit;
    /// overrides <see cref="GuardedAttribute.IdleTimeoutMs"/>. When not set, the scene's <see cref="TimeoutMs"/> does,
    /// when that is set.
    /// </summary>
    public int? IdleTimeoutMs { get; set; }

    /// <summary>
    /// Gets or sets how many items the shared stream of a key keeps for late or slow consumers, 1 to 1 000 000; overrides
    /// <see cref="GuardedAttribute.StreamReplayItems"/>.
    /// </summary>
    public int? StreamReplayItems { get; set; }

    /// <summary>
    /// Gets or sets whether the scene's executions are shared with the other instances of the deployment through the
    /// runtime's <see cref="Distribution.IDistributedFlights"/>; off by default, and without effect when the runtime has
    /// none. Guarded streams, merge windows and methods with <c>SingleFlight = false</c> are never shared across
    /// instances.
    /// </summary>
    public bool? Distributed { get; set; }
}
