namespace LlmGuard.Generators.Models;

/// <summary>One guarded method in the assembly's scene manifest: its scene, its name and its compile-time settings.</summary>
// Method: the containing type and method name, as Namespace.Type.Method, without global::.
internal sealed record SceneManifestEntry(
    string Scene,
    string Method,
    int TimeoutMs,
    int MaxRetries,
    int RetryDelayMs,
    int MaxRetryAfterMs,
    int MergeWindowMs,
    bool Sliding,
    int MergeMaxWaitMs,
    int CacheSeconds,
    bool SemanticText,
    double BreakerFailureRatio)
{
    public static SceneManifestEntry From(GuardedMethodSpec method) => new(
        method.Key.Scene,
        TrimGlobal(method.ContainingTypeDisplay) + "." + method.Name.TrimStart('@'),
        method.Policy.TimeoutMs,
        method.Policy.MaxRetries,
        method.Policy.RetryDelayMs,
        method.Policy.MaxRetryAfterMs,
        method.Merge?.WindowMs ?? 0,
        method.Merge?.Sliding ?? false,
        method.Merge?.MaxWaitMs ?? 0,
        method.Cache?.Seconds ?? 0,
        method.Semantic is not null,
        method.Policy.BreakerFailureRatio);

    private static string TrimGlobal(string type) => type.StartsWith("global::", System.StringComparison.Ordinal) ? type.Substring("global::".Length) : type;
}
