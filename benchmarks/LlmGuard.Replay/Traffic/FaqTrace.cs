using System;
using System.Collections.Generic;
using System.Linq;
using static LlmGuard.Replay.Traffic.FaqAssumptions;

namespace LlmGuard.Replay.Traffic;

/// <summary>
/// One call of the help desk. <paramref name="Question"/> is an FAQ question of the tenant's catalogue, or, when
/// <paramref name="Personal"/>, a personal intent. <paramref name="ContentVersion"/> is the tenant's FAQ content version
/// at the trigger's arrival: an answer computed from an older version is stale for this caller.
/// </summary>
public readonly record struct FaqTrigger(long AtTicks, int Session, int Tenant, int User, bool Personal, int Question, int ContentVersion, TriggerKind Kind);

/// <summary>
/// A seeded trace of help-desk triggers, in arrival order: sessions arrive as a Poisson process, each from a user of one
/// tenant, and ask a few questions separated by think time; each question is an FAQ question (Zipf-like popularity) or
/// a personal one; some are delivered more than once; each tenant's FAQ content is updated now and then. The same seed
/// and size always give the same trace.
/// </summary>
public sealed class FaqTrace
{
    private FaqTrace(FaqTrigger[] triggers, int contentUpdates)
    {
        Triggers = triggers;
        ArrivalTicks = Array.ConvertAll(triggers, trigger => trigger.AtTicks);
        Sessions = triggers.Select(trigger => trigger.Session).Distinct().Count();
        Users = triggers.Select(trigger => trigger.User).Distinct().Count();
        Questions = triggers.Count(trigger => trigger.Kind != TriggerKind.Duplicate);
        PersonalQuestions = triggers.Count(trigger => trigger.Kind != TriggerKind.Duplicate && trigger.Personal);
        ContentUpdates = contentUpdates;
        DistinctAnswers = triggers
            .Select(trigger => trigger.Personal
                ? (trigger.Tenant, trigger.User, true, trigger.Question, trigger.ContentVersion)
                : (trigger.Tenant, -1, false, trigger.Question, trigger.ContentVersion))
            .Distinct()
            .Count();
    }

    public IReadOnlyList<FaqTrigger> Triggers { get; }

    public IReadOnlyList<long> ArrivalTicks { get; }

    public int Sessions { get; }

    /// <summary>Distinct users in the trace.</summary>
    public int Users { get; }

    /// <summary>Questions asked (not duplicate deliveries).</summary>
    public int Questions { get; }

    public int PersonalQuestions { get; }

    /// <summary>FAQ content updates, all tenants, over the trace.</summary>
    public int ContentUpdates { get; }

    /// <summary>
    /// Distinct answers the trace needs: an FAQ question per tenant and content version, a personal question per user
    /// and content version. The floor of exact sharing: a cache that never forgets would make this many model calls.
    /// </summary>
    public int DistinctAnswers { get; }

    public int Count(TriggerKind kind) => Triggers.Count(trigger => trigger.Kind == kind);

    /// <summary>Generates the first <paramref name="triggers"/> triggers, by arrival time, of the FAQ traffic seeded by <paramref name="seed"/>.</summary>
    public static FaqTrace Generate(int triggers, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(triggers);
        var random = new Random(seed);
        var tenants = new Zipf(Tenants, TenantZipfExponent);
        var faq = new Zipf(FaqQuestions, FaqZipfExponent);
        var personal = new Zipf(PersonalIntents, PersonalZipfExponent);

        // Users are numbered tenant by tenant, each tenant getting a share in proportion to its weight.
        int[] firstUser = new int[Tenants + 1];
        for (int tenant = 0; tenant < Tenants; tenant++)
        {
            firstUser[tenant + 1] = firstUser[tenant] + Math.Max(1, (int)Math.Round(FaqAssumptions.Users * tenants.Weight(tenant)));
        }

        var all = new List<(FaqTrigger Trigger, long Order)>();
        double sessionStart = 0;
        double cutSeconds = double.MaxValue;
        for (int session = 0; ; session++)
        {
            sessionStart += Distributions.Exponential(random, 1.0 / SessionsPerSecond);
            if (all.Count >= triggers)
            {
                cutSeconds = Math.Min(cutSeconds, TimeSpan.FromTicks(all.Select(entry => entry.Trigger.AtTicks).Order().ElementAt(triggers - 1)).TotalSeconds);
                if (sessionStart > cutSeconds)
                {
                    break;
                }
            }

            int tenantOfSession = tenants.Next(random);
            int user = firstUser[tenantOfSession] + random.Next(firstUser[tenantOfSession + 1] - firstUser[tenantOfSession]);
            foreach (FaqTrigger trigger in GenerateSession(random, session, tenantOfSession, user, sessionStart, faq, personal))
            {
                all.Add((trigger, all.Count));
            }
        }

        FaqTrigger[] ordered = all
            .OrderBy(entry => entry.Trigger.AtTicks)
            .ThenBy(entry => entry.Order)
            .Take(triggers)
            .Select(entry => entry.Trigger)
            .ToArray();

        // Content updates, drawn after the sessions so the questions do not depend on them: a Poisson process per
        // tenant over the trace's span. A trigger carries its tenant's version at its arrival.
        long end = ordered[^1].AtTicks;
        var updates = new List<long>[Tenants];
        int updateCount = 0;
        for (int tenant = 0; tenant < Tenants; tenant++)
        {
            updates[tenant] = [];
            for (double at = Distributions.Exponential(random, ContentUpdateMeanSeconds); ToTicks(at) <= end; at += Distributions.Exponential(random, ContentUpdateMeanSeconds))
            {
                updates[tenant].Add(ToTicks(at));
                updateCount++;
            }
        }

        for (int i = 0; i < ordered.Length; i++)
        {
            List<long> ofTenant = updates[ordered[i].Tenant];
            int found = ofTenant.BinarySearch(ordered[i].AtTicks);
            int version = found >= 0 ? found + 1 : ~found;
            ordered[i] = ordered[i] with { ContentVersion = version };
        }

        return new FaqTrace(ordered, updateCount);
    }

    private static List<FaqTrigger> GenerateSession(Random random, int session, int tenant, int user, double startSeconds, Zipf faq, Zipf personal)
    {
        var result = new List<FaqTrigger>();
        double clock = startSeconds;
        int questions = Distributions.Geometric(random, MeanQuestionsPerSession, MaxQuestionsPerSession);
        for (int asked = 0; asked < questions; asked++)
        {
            if (asked > 0)
            {
                clock += Distributions.LogNormal(random, ThinkTimeMedianSeconds, ThinkTimeSigma);
            }

            bool isPersonal = random.NextDouble() < PersonalShare;
            int question = isPersonal ? personal.Next(random) : faq.Next(random);
            result.Add(new FaqTrigger(ToTicks(clock), session, tenant, user, isPersonal, question, 0, TriggerKind.Message));
            if (random.NextDouble() < TrafficAssumptions.DuplicateProbability)
            {
                int extra = Distributions.Geometric(random, TrafficAssumptions.MeanExtraDeliveries, TrafficAssumptions.MaxExtraDeliveries);
                for (int i = 0; i < extra; i++)
                {
                    double delay = Math.Clamp(
                        Distributions.LogNormal(random, TrafficAssumptions.DuplicateDelayMedianSeconds, TrafficAssumptions.DuplicateDelaySigma),
                        TrafficAssumptions.DuplicateDelayMinSeconds,
                        TrafficAssumptions.DuplicateDelayMaxSeconds);
                    result.Add(new FaqTrigger(ToTicks(clock + delay), session, tenant, user, isPersonal, question, 0, TriggerKind.Duplicate));
                }
            }
        }

        return result;
    }

    private static long ToTicks(double seconds) => (long)Math.Round(seconds * TimeSpan.TicksPerSecond);
}
