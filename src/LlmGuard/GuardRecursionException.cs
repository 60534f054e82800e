using System;

namespace LlmGuard;

/// <summary>
/// Thrown to a guarded call that would wait for the very execution it runs inside (a core that calls its own
/// guarded method with the same key). Waiting would never end, so the call fails at once instead.
/// </summary>
public sealed class GuardRecursionException : InvalidOperationException
{
    /// <summary>Creates the exception for the execution identified by <paramref name="key"/>.</summary>
    /// <param name="key">The key of the execution the call would have waited for.</param>
    public GuardRecursionException(string key)
        : base($"A guarded call with key '{key}' was made from inside the execution for that same key; it would wait for itself forever. Call the core directly, or use a different key.")
    {
        Key = key;
    }

    /// <summary>Gets the key of the execution the call would have waited for.</summary>
    public string Key { get; }
}
