namespace LlmGuard.Replay.Traffic;

/// <summary>
/// The parameters of the generated FAQ traffic: customers of several tenants (the businesses the desk serves) ask a
/// help desk questions, most of them from the tenant's FAQ, whose popularity is Zipf-like (a few questions — opening
/// hours, returns, delivery times — make most of the asks), and some personal ("where is my order"), whose answer
/// depends on who asks. Like <see cref="TrafficAssumptions"/>, these are assumptions shaped like published help-desk
/// figures (a popularity head of a few dozen questions, a minority of account-specific questions), not measurements of
/// one system. Duplicate deliveries follow <see cref="TrafficAssumptions"/>.
/// </summary>
public static class FaqAssumptions
{
    /// <summary>New help-desk sessions per second, all tenants together; a Poisson process.</summary>
    public const double SessionsPerSecond = 1.5;

    /// <summary>Tenants; a session's tenant is drawn with Zipf weights of exponent <see cref="TenantZipfExponent"/> (one large tenant, a tail of small ones).</summary>
    public const int Tenants = 12;

    public const double TenantZipfExponent = 1.0;

    /// <summary>Customers of all tenants, shared out in proportion to the tenants' weights; a session's user is drawn uniformly from its tenant's, so users come back.</summary>
    public const int Users = 20_000;

    /// <summary>Mean questions per session; geometric on 1, 2, … (a help-desk visit asks one or two things).</summary>
    public const double MeanQuestionsPerSession = 1.8;

    /// <summary>Cap on questions per session.</summary>
    public const int MaxQuestionsPerSession = 8;

    /// <summary>Median seconds between two questions of a session (reading the answer, typing the next); log-normal with <see cref="ThinkTimeSigma"/>.</summary>
    public const double ThinkTimeMedianSeconds = 20.0;

    public const double ThinkTimeSigma = 0.8;

    /// <summary>Questions per tenant's FAQ catalogue; an FAQ question is drawn from it with Zipf exponent <see cref="FaqZipfExponent"/>.</summary>
    public const int FaqQuestions = 400;

    public const double FaqZipfExponent = 1.1;

    /// <summary>Share of questions that are personal: their answer depends on the asking user's own data.</summary>
    public const double PersonalShare = 0.3;

    /// <summary>Personal intents ("where is my order", "my refund", "my invoice"…), drawn with Zipf exponent <see cref="PersonalZipfExponent"/>.</summary>
    public const int PersonalIntents = 8;

    public const double PersonalZipfExponent = 1.0;

    /// <summary>Mean seconds between two updates of one tenant's FAQ content (a Poisson process per tenant); an update makes every earlier answer of that tenant stale.</summary>
    public const double ContentUpdateMeanSeconds = 1_800;
}
