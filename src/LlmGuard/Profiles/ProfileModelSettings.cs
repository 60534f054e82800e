namespace LlmGuard.Profiles;

/// <summary>What makes one model of a profile: two equal settings keep one model, breaker and in-flight count, across a reload.</summary>
internal readonly record struct ProfileModelSettings(
    string? Client,
    string? Model,
    double FailureRatio,
    int MinimumThroughput,
    int SamplingMs,
    int BreakMs,
    int TimeoutMs)
{
    public static ProfileModelSettings From(LlmModelProfileOptions profile, LlmProfileModelOptions model) => new(
        model.Client,
        model.Model,
        profile.BreakerFailureRatio,
        profile.BreakerMinimumThroughput,
        profile.BreakerSamplingMs,
        profile.BreakerBreakMs,
        profile.TimeoutMs);
}
