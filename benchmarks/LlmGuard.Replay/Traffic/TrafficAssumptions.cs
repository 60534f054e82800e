namespace LlmGuard.Replay.Traffic;

/// <summary>
/// The parameters of the generated customer-service traffic. They are assumptions, chosen to resemble the kind of
/// figures published for live chat and messaging (chats of a handful of user turns, tens of seconds between turns,
/// people who split one thought over several short messages a second or two apart, a minority of duplicate
/// deliveries from double clicks, page retries and at-least-once webhooks). They are not measurements of a
/// particular system; change them here and the replay reports what LlmGuard does with the new traffic.
/// </summary>
public static class TrafficAssumptions
{
    /// <summary>New chat sessions per second, a Poisson process (a mid-sized desk: 5,400 chats an hour).</summary>
    public const double SessionsPerSecond = 1.5;

    /// <summary>Mean user turns per session; geometric on 1, 2, … (support chats are a few exchanges long).</summary>
    public const double MeanTurnsPerSession = 4.0;

    /// <summary>Cap on turns per session.</summary>
    public const int MaxTurnsPerSession = 20;

    /// <summary>
    /// Median seconds between the end of one turn and the start of the next (reading the answer, typing the reply);
    /// log-normal with <see cref="ThinkTimeSigma"/>. The trace is open-loop: it does not wait for the bot's answer.
    /// </summary>
    public const double ThinkTimeMedianSeconds = 12.0;

    public const double ThinkTimeSigma = 0.7;

    /// <summary>Mean messages per turn (a burst: "I want to complain" / "about yesterday's order" / "order no. 123"); geometric.</summary>
    public const double MeanMessagesPerTurn = 2.0;

    /// <summary>Cap on messages per turn.</summary>
    public const int MaxMessagesPerTurn = 6;

    /// <summary>Median seconds between two messages of one burst (typing a short fragment); log-normal with <see cref="TypingGapSigma"/>.</summary>
    public const double TypingGapMedianSeconds = 1.5;

    public const double TypingGapSigma = 0.7;

    /// <summary>Probability that a message is edited after it was sent (a typo, a wrong order number).</summary>
    public const double EditProbability = 0.12;

    /// <summary>Median seconds from a message to its edit; log-normal with <see cref="EditDelaySigma"/>.</summary>
    public const double EditDelayMedianSeconds = 3.0;

    public const double EditDelaySigma = 0.6;

    /// <summary>Probability that a submit (message or edit) is delivered more than once.</summary>
    public const double DuplicateProbability = 0.35;

    /// <summary>Mean number of extra deliveries of a duplicated submit; geometric on 1, 2, ….</summary>
    public const double MeanExtraDeliveries = 1.5;

    /// <summary>Cap on extra deliveries of one submit.</summary>
    public const int MaxExtraDeliveries = 5;

    /// <summary>Median seconds from a submit to a duplicate delivery; log-normal with <see cref="DuplicateDelaySigma"/>, clamped to [0.1 s, 2 s].</summary>
    public const double DuplicateDelayMedianSeconds = 0.5;

    public const double DuplicateDelaySigma = 0.9;

    public const double DuplicateDelayMinSeconds = 0.1;

    public const double DuplicateDelayMaxSeconds = 2.0;
}
