namespace LlmGuard;

/// <summary>How a merge window decides when to close.</summary>
public enum MergeMode
{
    /// <summary>The window closes <see cref="GuardedAttribute.MergeWindowMs"/> after the call that opened it.</summary>
    Fixed,

    /// <summary>
    /// Every call restarts the window, so it closes once callers have been quiet for
    /// <see cref="GuardedAttribute.MergeWindowMs"/>, but never later than <see cref="GuardedAttribute.MergeMaxWaitMs"/>
    /// after the call that opened it.
    /// </summary>
    Sliding,
}
