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
}
