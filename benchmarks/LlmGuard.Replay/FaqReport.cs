using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using LlmGuard.Replay.Traffic;
using Spectre.Console;
using static LlmGuard.Replay.Traffic.FaqAssumptions;

namespace LlmGuard.Replay;

/// <summary>Turns the FAQ trace's results into a console table, a few lines that explain them, and the same as Markdown.</summary>
public sealed class FaqReport(ReplaySettings settings, FaqTrace trace, IReadOnlyList<WayResult> results)
{
    private static readonly string[] Headers =
    [
        "Way", "Triggers", "Model calls", "Executions", "Reduction", "Cache hits", "p50", "p95", "p99",
        "Stale", "Cross-tenant", "Cross-user", "Attempt failures", "Caller failures", "Fallback answers",
    ];

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private WayResult Baseline => results.Single(result => result.Way == ReplayWay.Unguarded);

    public Table ToTable() => ReportLayout.Table(
        $"[bold]LlmGuard replay, FAQ traffic[/]: {settings.Triggers:N0} triggers, seed {settings.Seed}, fault rate {settings.FaultRate:P1}",
        Headers,
        Rows());

    public string ToMarkdown() => ReportLayout.Markdown(
        "LlmGuard replay: FAQ traffic",
        string.Create(Invariant, $"`--traffic faq --triggers {settings.Triggers} --seed {settings.Seed} --fault-rate {settings.FaultRate.ToString(Invariant)}`"),
        Headers,
        Rows(),
        Explanation(),
        ColumnNotes(),
        "Assumptions (FAQ traffic, guards)",
        Assumptions()).ToString();

    public IEnumerable<string[]> Rows() => results.Select(result => new[]
    {
        ReplayReport.Name(result.Way),
        result.Triggers.ToString("N0", Invariant),
        result.ModelCalls.ToString("N0", Invariant),
        result.Executions.ToString("N0", Invariant),
        result.Way == ReplayWay.Unguarded ? "—" : Reduction(result).ToString("P1", Invariant),
        result.Way == ReplayWay.SingleFlightAndCache ? result.CacheHits.ToString("N0", Invariant) : "—",
        Seconds(result.Latency.P50),
        Seconds(result.Latency.P95),
        Seconds(result.Latency.P99),
        result.StaleResults.ToString("N0", Invariant),
        result.CrossTenant.ToString("N0", Invariant),
        result.CrossUser.ToString("N0", Invariant),
        result.AttemptFailures.ToString("N0", Invariant),
        result.CallerFailures.ToString("N0", Invariant),
        result.Way == ReplayWay.Unguarded ? "—" : $"{result.FallbackAnswers:N0} ({result.FallbackExecutions:N0} exec.)",
    });

    public IEnumerable<string> Explanation()
    {
        WayResult singleFlight = results.Single(result => result.Way == ReplayWay.SingleFlight);
        WayResult cached = results.Single(result => result.Way == ReplayWay.SingleFlightAndCache);
        double ceiling = 1.0 - (double)trace.DistinctAnswers / trace.Triggers.Count;
        string F(FormattableString text) => text.ToString(Invariant);

        yield return F($"The trace: {trace.Triggers.Count:N0} triggers from {trace.Sessions:N0} sessions of {trace.Users:N0} users in {Tenants} tenants: {trace.Questions:N0} questions ({trace.Questions - trace.PersonalQuestions:N0} FAQ, {trace.PersonalQuestions:N0} personal) and {trace.Count(TriggerKind.Duplicate):N0} duplicate deliveries, over {Baseline.VirtualDuration:h\\:mm} of virtual time with {trace.ContentUpdates:N0} FAQ content updates.");
        yield return F($"Ceiling: the trace needs {trace.DistinctAnswers:N0} distinct answers (an FAQ question per tenant and content version, a personal question per user and content version); a cache that never forgot would save {ceiling:P1} of the calls.");
        yield return F($"Singleflight (key: tenant, question, content version; for personal questions also the user) saves {Reduction(singleFlight):P1}: only calls that arrive while the first execution of the same question runs share it.");
        FaqExecutions why = cached.FaqExecutions;
        yield return F($"Singleflight + cache (FAQ answers kept {FaqDesk.FaqCacheSeconds} s per tenant, personal answers {FaqDesk.PersonalCacheSeconds} s per user) saves {Reduction(cached):P1}, {Reduction(cached) / ceiling:P1} of the ceiling: {cached.CacheHits:N0} callers were answered from the cache. Its {cached.Executions:N0} executions: {why.FirstOfAnswer:N0} first of their answer, {why.AfterExpiry:N0} again after the answer's entry expired (the FAQ tail, personal questions asked again more than {FaqDesk.PersonalCacheSeconds} s later), {why.AfterUnstored:N0} again sooner because the earlier execution stored nothing (a fallback answer is never stored); retries add {cached.ModelCalls - cached.Executions:N0} model calls. Caller p50/p95/p99 {Seconds(cached.Latency.P50)} / {Seconds(cached.Latency.P95)} / {Seconds(cached.Latency.P99)} against {Seconds(Baseline.Latency.P50)} / {Seconds(Baseline.Latency.P95)} / {Seconds(Baseline.Latency.P99)} unguarded.");
        yield return F($"Checks, per caller: stale answers (computed from FAQ content older than the caller's) {singleFlight.StaleResults} and {cached.StaleResults}; answers computed for another tenant {singleFlight.CrossTenant} and {cached.CrossTenant}; personal answers computed for another user {singleFlight.CrossUser} and {cached.CrossUser}. Every answer records the tenant, user and content version it was computed for; the keys hold the content version, {{$tenant}} and, for personal questions, {{$user}}, so an execution or a cache entry is shared only by callers it is right for.");
        yield return F($"Failures: without retries and fallback, callers would have met {singleFlight.AttemptFailures:N0} and {cached.AttemptFailures:N0} failed model calls; after them, {singleFlight.CallerFailures:N0} and {cached.CallerFailures:N0} callers failed, and the fallback answered {singleFlight.FallbackAnswers:N0} and {cached.FallbackAnswers:N0}. Unguarded, every failed call reaches a caller ({Baseline.CallerFailures:N0}).");
        yield return F($"Callers still waiting when nothing was left to happen: {string.Join(", ", results.Select(result => $"{result.UnfinishedCallers} {ReplayReport.Name(result.Way)}"))}.");
    }

    public static IEnumerable<string> ColumnNotes() =>
    [
        "Model calls, Executions, Reduction, p50/p95/p99, Attempt failures, Caller failures, Fallback answers: as for the chat traffic.",
        "Cache hits: callers answered from HybridCache without an execution (LlmGuard's llmguard.calls counter, outcome cached).",
        "Stale: callers whose answer was computed from an FAQ content version older than the one current at their arrival.",
        "Cross-tenant: callers answered with an answer computed for another tenant. Cross-user: callers of a personal question answered with an answer computed for another user.",
    ];

    public IEnumerable<(string Parameter, string Value)> Assumptions()
    {
        string F(FormattableString text) => text.ToString(Invariant);
        yield return ("Session arrivals", F($"Poisson, {SessionsPerSecond} per second, all tenants"));
        yield return ("Tenants", F($"{Tenants}, Zipf weights, exponent {TenantZipfExponent}"));
        yield return ("Users", F($"{FaqAssumptions.Users:N0}, shared out by tenant weight; a session's user drawn uniformly from its tenant's (users come back)"));
        yield return ("Questions per session", F($"geometric, mean {MeanQuestionsPerSession}, at most {MaxQuestionsPerSession}; think time log-normal, median {ThinkTimeMedianSeconds} s, σ {ThinkTimeSigma}"));
        yield return ("FAQ questions", F($"{1 - PersonalShare:P0} of questions; catalogue of {FaqQuestions} per tenant, Zipf exponent {FaqZipfExponent}"));
        yield return ("Personal questions", F($"{PersonalShare:P0} of questions; {PersonalIntents} intents, Zipf exponent {PersonalZipfExponent}; the answer depends on the user"));
        yield return ("FAQ content updates", F($"per tenant, Poisson, mean every {ContentUpdateMeanSeconds / 60:0.#} min; a new content version"));
        yield return ("Duplicate deliveries", F($"as for the chat traffic: {TrafficAssumptions.DuplicateProbability:P0} of questions, mean {TrafficAssumptions.MeanExtraDeliveries} extra copies, {TrafficAssumptions.DuplicateDelayMinSeconds}–{TrafficAssumptions.DuplicateDelayMaxSeconds} s late"));
        yield return ("Model, attempts", "as for the chat traffic");
        yield return ("Cache (singleflight + cache)", F($"HybridCache (in-memory level only); FAQ: key {{$tenant}}, question, content version, {FaqDesk.FaqCacheSeconds} s; personal: key {{$tenant}}, {{$user}}, question, content version, {FaqDesk.PersonalCacheSeconds} s"));
    }

    private double Reduction(WayResult result) => 1.0 - (double)result.ModelCalls / Baseline.ModelCalls;

    private static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.00", Invariant) + " s";
}
