namespace LlmGuard.Profiles;

/// <summary>The wire names of model profiles' metric: never changed once shipped.</summary>
internal static class ProfileTelemetry
{
    /// <summary>One per request a profile sent to a model, or rejected because every model's breaker was open.</summary>
    public const string Requests = "llmguard.profile.requests";

    public const string ProfileTag = "llmguard.profile";
}
