namespace LlmGuard.Profiles;

/// <summary>The wire names of model profiles' metrics: never changed once shipped.</summary>
internal static class ProfileTelemetry
{
    /// <summary>One per request a profile sent to a model, or rejected because every model's breaker was open.</summary>
    public const string Requests = "llmguard.profile.requests";

    /// <summary>
    /// The state of each model's breaker, per profile and model, in the encoding of <c>llmguard.breaker.state</c>:
    /// 0 closed, 1 half-open, 2 open.
    /// </summary>
    public const string BreakerState = "llmguard.profile.breaker.state";

    public const string ProfileTag = "llmguard.profile";
}
