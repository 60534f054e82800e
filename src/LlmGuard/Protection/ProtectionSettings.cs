using LlmGuard.Configuration;
using LlmGuard.Infrastructure;
using LlmGuard.Internal;

namespace LlmGuard.Protection;

/// <summary>
/// The effective protection settings of one scene: its breaker and limits, with defaults filled in. Equal settings keep
/// the scene's <see cref="SceneProtection"/> (and the breaker's state) across a reload; different ones build a new one.
/// </summary>
internal readonly record struct ProtectionSettings(
    double BreakerFailureRatio,
    int BreakerMinimumThroughput,
    int BreakerSamplingMs,
    int BreakerBreakMs,
    int MaxConcurrency,
    int MaxQueue,
    int RateLimit,
    int RateLimitWindowMs,
    int TenantMaxConcurrency,
    int TenantRateLimit)
{
    /// <summary>Gets the settings of the breaker alone: equal ones keep the breaker when only the limits change.</summary>
    public (double FailureRatio, int MinimumThroughput, int SamplingMs, int BreakMs) Breaker =>
        (BreakerFailureRatio, BreakerMinimumThroughput, BreakerSamplingMs, BreakerBreakMs);

    /// <summary>Gets whether the scene has a circuit breaker.</summary>
    public bool HasBreaker => BreakerFailureRatio > 0;

    /// <summary>Gets whether the scene has neither a breaker nor a limit: its methods pay nothing for protection.</summary>
    public bool IsEmpty => !HasBreaker && MaxConcurrency == 0 && RateLimit == 0 && !LimitsTenants;

    /// <summary>Gets whether the scene bounds each tenant too, which makes every execution read its tenant.</summary>
    public bool LimitsTenants => TenantMaxConcurrency > 0 || TenantRateLimit > 0;

    /// <summary>The settings of a method's scene: its configuration, else the method's attribute constants, else the defaults.</summary>
    public static ProtectionSettings Of<TResult>(SceneOverrides overrides, GuardedMethod<TResult> method) =>
        Of(overrides, method.BreakerFailureRatio, method.MaxConcurrency);

    /// <summary>The settings of a scene: its configuration, else the attribute's breaker ratio and concurrency, else the defaults.</summary>
    public static ProtectionSettings Of(SceneOverrides overrides, double breakerFailureRatio, int maxConcurrency) => new(
        overrides.BreakerFailureRatio ?? breakerFailureRatio,
        overrides.BreakerMinimumThroughput ?? GuardLimits.DefaultBreakerMinimumThroughput,
        overrides.BreakerSamplingMs ?? GuardLimits.DefaultBreakerSamplingMs,
        overrides.BreakerBreakMs ?? GuardLimits.DefaultBreakerBreakMs,
        overrides.MaxConcurrency ?? maxConcurrency,
        overrides.MaxQueue ?? 0,
        overrides.RateLimit ?? 0,
        overrides.RateLimitWindowMs ?? GuardLimits.DefaultRateLimitWindowMs,
        overrides.TenantMaxConcurrency ?? 0,
        overrides.TenantRateLimit ?? 0);
}
