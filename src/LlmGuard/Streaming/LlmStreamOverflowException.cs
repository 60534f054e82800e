using System;

namespace LlmGuard.Streaming;

/// <summary>
/// Thrown to a consumer of a guarded stream that fell more than <see cref="GuardedAttribute.StreamReplayItems"/> items
/// behind the upstream: the items it has not read yet were dropped to keep the stream's memory bounded. The other
/// consumers of the stream go on.
/// </summary>
public sealed class LlmStreamOverflowException : Exception
{
    /// <summary>Creates the exception for a consumer that received <paramref name="itemsDelivered"/> items.</summary>
    /// <param name="itemsDelivered">How many items the consumer received before it fell behind.</param>
    /// <param name="replayItems">How many items the stream keeps.</param>
    public LlmStreamOverflowException(int itemsDelivered, int replayItems)
        : base($"The consumer of the guarded stream read {itemsDelivered} item(s) and fell more than {replayItems} item(s) behind the upstream; the items it had not read were dropped. Read faster, or raise StreamReplayItems.")
    {
        ItemsDelivered = itemsDelivered;
    }

    /// <summary>Gets how many items the consumer received before it fell behind.</summary>
    public int ItemsDelivered { get; }
}
