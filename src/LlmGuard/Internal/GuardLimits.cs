namespace LlmGuard.Internal;

/// <summary>The ranges the generator enforces at compile time and <see cref="Infrastructure.GuardedMethod{TResult}"/> at run time.</summary>
internal static class GuardLimits
{
    /// <summary>Polly's timeout strategy refuses anything shorter.</summary>
    public const int MinTimeoutMs = 10;

    /// <summary>Polly refuses timeouts and delays of more than a day.</summary>
    public const int MaxMilliseconds = 86_400_000;

    public const int MaxRetries = 100;

    /// <summary>The longest a cached answer is kept: 30 days.</summary>
    public const int MaxCacheSeconds = 2_592_000;

    /// <summary>The semantic cache's similarity threshold when the scene sets none.</summary>
    public const double DefaultSemanticThreshold = 0.92;

    /// <summary>The semantic cache's bound when the scene sets none.</summary>
    public const int DefaultSemanticMaxEntries = 1_000;

    /// <summary>A breaker's minimum throughput when the scene sets a failure ratio but no throughput.</summary>
    public const int DefaultBreakerMinimumThroughput = 10;

    /// <summary>A breaker's sampling window when the scene sets none: 30 s, Polly's default.</summary>
    public const int DefaultBreakerSamplingMs = 30_000;

    /// <summary>How long a breaker stays open when the scene sets nothing: 5 s, Polly's default.</summary>
    public const int DefaultBreakerBreakMs = 5_000;

    /// <summary>Polly's circuit breaker refuses sampling windows and break durations shorter than half a second.</summary>
    public const int MinBreakerMs = 500;

    /// <summary>The most items a guarded stream may keep for late consumers: a bound on the memory one key can hold.</summary>
    public const int MaxStreamReplayItems = 1_000_000;

    /// <summary>The window of a rate limit when the scene sets none.</summary>
    public const int DefaultRateLimitWindowMs = 1_000;
}
