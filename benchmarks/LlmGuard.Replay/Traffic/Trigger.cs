namespace LlmGuard.Replay.Traffic;

/// <summary>Why a trigger was sent.</summary>
public enum TriggerKind : byte
{
    /// <summary>The user sent a new message.</summary>
    Message,

    /// <summary>The user edited a message they had sent: new text, so a new conversation revision.</summary>
    Edit,

    /// <summary>The same submit again (double click, page retry, network flap, webhook redelivery): same revision.</summary>
    Duplicate,
}

/// <summary>
/// One call of the bot. <paramref name="Revision"/> is the session's conversation revision the trigger was submitted
/// at; an answer computed from a lower revision is stale for this caller.
/// </summary>
public readonly record struct Trigger(long AtTicks, int Session, int Turn, int Revision, TriggerKind Kind);
