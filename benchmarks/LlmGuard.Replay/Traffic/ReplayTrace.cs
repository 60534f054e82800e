using System;
using System.Collections.Generic;
using System.Linq;
using static LlmGuard.Replay.Traffic.TrafficAssumptions;

namespace LlmGuard.Replay.Traffic;

/// <summary>
/// A seeded trace of customer-service triggers, in arrival order: sessions arrive as a Poisson process; each session
/// is a sequence of turns separated by think time; each turn is a burst of messages; some messages are edited; some
/// submits are delivered more than once. The same seed and size always give the same trace.
/// </summary>
public sealed class ReplayTrace
{
    private ReplayTrace(Trigger[] triggers)
    {
        Triggers = triggers;
        ArrivalTicks = Array.ConvertAll(triggers, trigger => trigger.AtTicks);
        Sessions = triggers.Select(trigger => trigger.Session).Distinct().Count();
        Turns = triggers.Select(trigger => (trigger.Session, trigger.Turn)).Distinct().Count();
        Submits = triggers.Select(trigger => (trigger.Session, trigger.Revision)).Distinct().Count();
    }

    public IReadOnlyList<Trigger> Triggers { get; }

    public IReadOnlyList<long> ArrivalTicks { get; }

    public int Sessions { get; }

    /// <summary>User turns (bursts) in the trace: one model call per turn is the floor any per-turn merging can reach.</summary>
    public int Turns { get; }

    /// <summary>Distinct conversation revisions (messages and edits): the floor of exact-duplicate sharing.</summary>
    public int Submits { get; }

    public int Count(TriggerKind kind) => Triggers.Count(trigger => trigger.Kind == kind);

    /// <summary>Generates the first <paramref name="triggers"/> triggers, by arrival time, of the traffic seeded by <paramref name="seed"/>.</summary>
    public static ReplayTrace Generate(int triggers, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(triggers);
        var random = new Random(seed);
        var all = new List<(Trigger Trigger, long Order)>();
        double sessionStart = 0;
        double cutSeconds = double.MaxValue;
        for (int session = 0; ; session++)
        {
            sessionStart += Distributions.Exponential(random, 1.0 / SessionsPerSecond);

            // Sessions keep coming until none can add a trigger before the N-th earliest one seen so far.
            if (all.Count >= triggers)
            {
                cutSeconds = Math.Min(cutSeconds, NthEarliestSeconds(all, triggers));
                if (sessionStart > cutSeconds)
                {
                    break;
                }
            }

            foreach (Trigger trigger in GenerateSession(random, session, sessionStart))
            {
                all.Add((trigger, all.Count));
            }
        }

        Trigger[] ordered = all
            .OrderBy(entry => entry.Trigger.AtTicks)
            .ThenBy(entry => entry.Order)
            .Take(triggers)
            .Select(entry => entry.Trigger)
            .ToArray();
        return new ReplayTrace(ordered);
    }

    private static double NthEarliestSeconds(List<(Trigger Trigger, long Order)> all, int n) =>
        TimeSpan.FromTicks(all.Select(entry => entry.Trigger.AtTicks).Order().ElementAt(n - 1)).TotalSeconds;

    private static List<Trigger> GenerateSession(Random random, int session, double startSeconds)
    {
        // First the submits (messages and edits) with their times; revisions follow their order in time, since an
        // edit can land after the next message of the burst.
        var submits = new List<(double At, int Turn, TriggerKind Kind)>();
        double clock = startSeconds;
        int turns = Distributions.Geometric(random, MeanTurnsPerSession, MaxTurnsPerSession);
        for (int turn = 0; turn < turns; turn++)
        {
            if (turn > 0)
            {
                clock += Distributions.LogNormal(random, ThinkTimeMedianSeconds, ThinkTimeSigma);
            }

            int messages = Distributions.Geometric(random, MeanMessagesPerTurn, MaxMessagesPerTurn);
            for (int message = 0; message < messages; message++)
            {
                if (message > 0)
                {
                    clock += Distributions.LogNormal(random, TypingGapMedianSeconds, TypingGapSigma);
                }

                submits.Add((clock, turn, TriggerKind.Message));
                if (random.NextDouble() < EditProbability)
                {
                    submits.Add((clock + Distributions.LogNormal(random, EditDelayMedianSeconds, EditDelaySigma), turn, TriggerKind.Edit));
                }
            }
        }

        var result = new List<Trigger>();
        int revision = 0;
        foreach ((double at, int turn, TriggerKind kind) in submits.OrderBy(submit => submit.At))
        {
            revision++;
            result.Add(new Trigger(ToTicks(at), session, turn, revision, kind));
            if (random.NextDouble() < DuplicateProbability)
            {
                int extra = Distributions.Geometric(random, MeanExtraDeliveries, MaxExtraDeliveries);
                for (int i = 0; i < extra; i++)
                {
                    double delay = Math.Clamp(
                        Distributions.LogNormal(random, DuplicateDelayMedianSeconds, DuplicateDelaySigma),
                        DuplicateDelayMinSeconds,
                        DuplicateDelayMaxSeconds);
                    result.Add(new Trigger(ToTicks(at + delay), session, turn, revision, TriggerKind.Duplicate));
                }
            }
        }

        return result;
    }

    private static long ToTicks(double seconds) => (long)Math.Round(seconds * TimeSpan.TicksPerSecond);
}
