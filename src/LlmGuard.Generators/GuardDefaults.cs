namespace LlmGuard.Generators;

/// <summary>
/// The attribute's defaults and limits, as the runtime defines them in <c>GuardedAttribute</c> and <c>GuardLimits</c>;
/// a test keeps the two in step.
/// </summary>
internal static class GuardDefaults
{
    public const int TimeoutMs = 30_000;
    public const int MaxRetries = 2;
    public const int RetryDelayMs = 200;
    public const int MaxRetryAfterMs = 30_000;
    public const int StreamReplayItems = 4096;

    public const int MinTimeoutMs = 10;
    public const int MaxMilliseconds = 86_400_000;
    public const int MaxRetriesLimit = 100;
    public const int MaxCacheSeconds = 2_592_000;
    public const int MaxStreamReplayItems = 1_000_000;
}
