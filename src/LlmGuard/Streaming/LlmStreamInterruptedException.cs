using System;

namespace LlmGuard.Streaming;

/// <summary>
/// Thrown to every consumer of a guarded stream whose upstream failed after its first item. Consumers already hold
/// items of that answer, so neither a retry nor a fallback could continue it without repeating or contradicting them.
/// </summary>
public sealed class LlmStreamInterruptedException : Exception
{
    /// <summary>Creates the exception for a stream interrupted by <paramref name="innerException"/>.</summary>
    /// <param name="itemsDelivered">How many items the upstream produced before it failed.</param>
    /// <param name="innerException">The failure of the upstream.</param>
    public LlmStreamInterruptedException(int itemsDelivered, Exception innerException)
        : base($"The guarded stream failed after {itemsDelivered} item(s); the items already received are all there is. See the inner exception for the cause.", innerException)
    {
        ItemsDelivered = itemsDelivered;
    }

    /// <summary>Gets how many items the upstream produced before it failed.</summary>
    public int ItemsDelivered { get; }
}
