using System.Collections.Generic;
using LlmGuard.Internal;

namespace LlmGuard.Profiles;

/// <summary>
/// The settings of one model profile, bound from <c>LlmGuard:Profiles:&lt;name&gt;</c>: its models, how requests
/// spread over them, and each model's circuit breaker.
/// </summary>
public sealed class LlmModelProfileOptions
{
    /// <summary>The default of <see cref="BreakerFailureRatio"/>.</summary>
    public const double DefaultBreakerFailureRatio = 0.5;

    // The breaker's defaults are a scene breaker's, so a setting name means the same on a scene and on a profile.

    /// <summary>The default of <see cref="BreakerMinimumThroughput"/>: 10, as for a scene's breaker.</summary>
    public const int DefaultBreakerMinimumThroughput = GuardLimits.DefaultBreakerMinimumThroughput;

    /// <summary>The default of <see cref="BreakerSamplingMs"/>: 30 seconds, as for a scene's breaker.</summary>
    public const int DefaultBreakerSamplingMs = GuardLimits.DefaultBreakerSamplingMs;

    /// <summary>The default of <see cref="BreakerBreakMs"/>: 5 seconds, Polly's default and a scene breaker's.</summary>
    public const int DefaultBreakerBreakMs = GuardLimits.DefaultBreakerBreakMs;

    /// <summary>
    /// The default of <see cref="TimeoutMs"/>: 20 seconds, below the 30 seconds of <see cref="GuardedAttribute.DefaultTimeoutMs"/>.
    /// </summary>
    public const int DefaultTimeoutMs = 20_000;

    /// <summary>Gets or sets how requests spread over the models; <see cref="LlmProfileStrategy.RoundRobin"/> by default.</summary>
    public LlmProfileStrategy Strategy { get; set; }

    /// <summary>Gets the models requests spread over, 1 to 64.</summary>
    public IList<LlmProfileModelOptions> Models { get; } = new List<LlmProfileModelOptions>();

    /// <summary>
    /// Gets or sets the share of a model's requests in the sampling window that must fail for its breaker to open,
    /// above 0 and at most 1; <see cref="DefaultBreakerFailureRatio"/> by default.
    /// </summary>
    public double BreakerFailureRatio { get; set; } = DefaultBreakerFailureRatio;

    /// <summary>
    /// Gets or sets how many requests a model must receive in the sampling window before its breaker may open, 2 or
    /// more; <see cref="DefaultBreakerMinimumThroughput"/> by default.
    /// </summary>
    public int BreakerMinimumThroughput { get; set; } = DefaultBreakerMinimumThroughput;

    /// <summary>
    /// Gets or sets the window, in milliseconds, over which a model's failure ratio is measured, 500 to 86 400 000;
    /// <see cref="DefaultBreakerSamplingMs"/> by default.
    /// </summary>
    public int BreakerSamplingMs { get; set; } = DefaultBreakerSamplingMs;

    /// <summary>
    /// Gets or sets how long, in milliseconds, an opened breaker keeps requests off its model before one request probes
    /// it, 500 to 86 400 000; <see cref="DefaultBreakerBreakMs"/> by default.
    /// </summary>
    public int BreakerBreakMs { get; set; } = DefaultBreakerBreakMs;

    /// <summary>
    /// Gets or sets how long, in milliseconds, the profile waits for a model's response before it cancels the request
    /// and counts a failure against the model's breaker: 10 to 86 400 000, or 0 for no profile timeout;
    /// <see cref="DefaultTimeoutMs"/> by default.
    /// </summary>
    /// <remarks>
    /// A guarded method's own <see cref="GuardedAttribute.TimeoutMs"/> cancels the request the same way a leaving
    /// caller does, and the profile cannot tell the two apart, so it counts neither: only this timeout lets a model
    /// that hangs open its breaker. The default sits below a guarded method's default timeout so that it fires first;
    /// set it below the timeout of every scene that calls the profile. Streaming requests are not timed by the profile.
    /// </remarks>
    public int TimeoutMs { get; set; } = DefaultTimeoutMs;
}
