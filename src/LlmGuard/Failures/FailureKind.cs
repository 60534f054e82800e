namespace LlmGuard.Failures;

/// <summary>What a failed attempt says about the next one.</summary>
public enum FailureKind
{
    /// <summary>The classifier cannot tell; the next classifier (or the built-in rules) decides.</summary>
    Unknown = 0,

    /// <summary>Another attempt may succeed: the failure is retried while retries remain.</summary>
    Transient = 1,

    /// <summary>Another attempt would fail the same way: the failure goes to the fallback or the caller at once.</summary>
    Permanent = 2,
}
