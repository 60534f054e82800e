using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using LlmGuard.Replay.Traffic;
using LlmGuard.Replay.VirtualTime;
using Spectre.Console;
using static LlmGuard.Replay.Traffic.TrafficAssumptions;

namespace LlmGuard.Replay;

/// <summary>The replay's settings, as given on the command line.</summary>
/// <param name="CachedWindow">The merge window of the "merge window + cache" way.</param>
public sealed record ReplaySettings(int Triggers, int Seed, double FaultRate, MergeWindowSettings CachedWindow);

/// <summary>A merge window's quiet time and cap, in milliseconds.</summary>
public sealed record MergeWindowSettings(int QuietMs, int MaxWaitMs)
{
    /// <summary>The window <see cref="SupportBot"/> declares, the same for both merge ways.</summary>
    public static readonly MergeWindowSettings Declared = new(SupportBot.MergeQuietMs, SupportBot.MergeMaxWaitMs);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{QuietMs / 1000.0:0.#} s of quiet, at most {MaxWaitMs / 1000.0:0.#} s");
}

/// <summary>Turns the chat trace's results into a console table, a few lines that explain them, and the same as Markdown.</summary>
public sealed class ReplayReport(ReplaySettings settings, ReplayTrace trace, IReadOnlyList<WayResult> results)
{
    /// <summary>The reduction in model calls the field's reference deployment reports.</summary>
    public const double ReferenceReduction = 0.85;

    private static readonly string[] Headers =
    [
        "Way", "Triggers", "Model calls", "Executions", "Reduction", "p50", "p95", "p99",
        "Stale", "Cross-user", "Attempt failures", "Caller failures", "Fallback answers",
    ];

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    private WayResult Baseline => results.Single(result => result.Way == ReplayWay.Unguarded);

    public Table ToTable() => ReportLayout.Table(
        $"[bold]LlmGuard replay[/]: {settings.Triggers:N0} triggers, seed {settings.Seed}, fault rate {settings.FaultRate:P1}",
        Headers,
        Rows());

    public string ToMarkdown(TimeSpan wallTime)
    {
        string window = settings.CachedWindow == MergeWindowSettings.Declared
            ? ""
            : string.Create(Invariant, $" --merge-quiet-ms {settings.CachedWindow.QuietMs} --merge-max-wait-ms {settings.CachedWindow.MaxWaitMs}");
        StringBuilder markdown = ReportLayout.Markdown(
            "LlmGuard replay: customer-service traffic",
            string.Create(Invariant, $"`--triggers {settings.Triggers} --seed {settings.Seed} --fault-rate {settings.FaultRate.ToString(Invariant)}{window}`, {wallTime.TotalSeconds:F1} s of machine time for the run."),
            Headers,
            Rows(),
            Explanation(),
            ColumnNotes(),
            "Assumptions (traffic, model, guards)",
            Assumptions());
        ReportLayout.AppendList(markdown, "How virtual time works", VirtualTimeNotes());
        return markdown.ToString();
    }

    public IEnumerable<string[]> Rows() => results.Select(result => new[]
    {
        Name(result.Way),
        result.Triggers.ToString("N0", Invariant),
        result.ModelCalls.ToString("N0", Invariant),
        result.Executions.ToString("N0", Invariant),
        result.Way == ReplayWay.Unguarded ? "—" : Reduction(result).ToString("P1", Invariant),
        Seconds(result.Latency.P50),
        Seconds(result.Latency.P95),
        Seconds(result.Latency.P99),
        result.StaleResults.ToString("N0", Invariant),
        result.CrossUser.ToString("N0", Invariant),
        result.AttemptFailures.ToString("N0", Invariant),
        result.CallerFailures.ToString("N0", Invariant),
        result.Way == ReplayWay.Unguarded ? "—" : $"{result.FallbackAnswers:N0} ({result.FallbackExecutions:N0} exec.)",
    });

    public IEnumerable<string> Explanation()
    {
        WayResult singleFlight = results.Single(result => result.Way == ReplayWay.SingleFlight);
        WayResult merged = results.Single(result => result.Way == ReplayWay.SingleFlightAndMergeWindow);
        WayResult cached = results.Single(result => result.Way == ReplayWay.SingleFlightMergeWindowAndCache);
        double triggersPerTurn = (double)trace.Triggers.Count / trace.Turns;
        double perTurnCeiling = 1.0 - (double)trace.Turns / trace.Triggers.Count;
        double duplicateCeiling = 1.0 - (double)trace.Submits / trace.Triggers.Count;
        string F(FormattableString text) => text.ToString(Invariant);

        yield return F($"The trace: {trace.Triggers.Count:N0} triggers from {trace.Sessions:N0} sessions, {trace.Turns:N0} user turns (bursts), {trace.Submits:N0} distinct submits ({trace.Count(TriggerKind.Message):N0} messages, {trace.Count(TriggerKind.Edit):N0} edits) and {trace.Count(TriggerKind.Duplicate):N0} duplicate deliveries: {triggersPerTurn:F2} triggers per turn.");
        yield return F($"Ceilings: answering every turn with exactly one model call would save {perTurnCeiling:P1} of the calls; sharing exact duplicates perfectly would save {duplicateCeiling:P1}.");
        yield return F($"Singleflight (key = session + revision) saves {Reduction(singleFlight):P1}: it shares only duplicates that arrive while the first execution runs. A duplicate 0.1–2 s late often finds the ~0.8 s call already finished and pays again, and different messages or edits never share.");
        yield return F($"Singleflight + merge window (per session, closes after {SupportBot.MergeQuietMs / 1000.0:0.#} s of quiet, at most {SupportBot.MergeMaxWaitMs / 1000.0:0.#} s after the first trigger) saves {Reduction(merged):P1}, {Reduction(merged) / perTurnCeiling:P0} of the per-turn ceiling, with {merged.MergeWindows:N0} windows for {trace.Turns:N0} turns. The calls above one per turn come from typing gaps longer than the quiet time, edits and duplicates that land after the window closed, and {merged.ModelCalls - merged.Executions:N0} retries. The price is the wait: caller p50 {Seconds(merged.Latency.P50)} against {Seconds(Baseline.Latency.P50)} unguarded.");
        yield return F($"The reference deployment's ~{ReferenceReduction:P0} fewer calls means about {1.0 / (1.0 - ReferenceReduction):F1} triggers per model call. This trace has {triggersPerTurn:F2} triggers per turn, so no guard that answers every turn can pass {perTurnCeiling:P1} on it: the figure is set first by how many triggers the traffic sends per answer (duplicate deliveries, split messages, edits). Traffic with more triggers per answer raises the ceiling and the reduction with it; what carries over is the share of the ceiling reached ({Reduction(merged) / perTurnCeiling:P0}), and the rest of the gap is the window's reach: gaps and edits later than its quiet time.");
        string cachedWindow = settings.CachedWindow == MergeWindowSettings.Declared ? "the same window" : $"a window of {settings.CachedWindow} (--merge-quiet-ms/--merge-max-wait-ms)";
        yield return F($"Singleflight + merge window + cache ({cachedWindow} over a singleflight whose answers are kept {SupportBot.AnswerCacheSeconds} s, keyed by conversation and revision) saves {Reduction(cached):P1}, {Reduction(cached) / perTurnCeiling:P1} of the per-turn ceiling, against {Reduction(merged):P1} and {Reduction(merged) / perTurnCeiling:P1} for the merge window way: {cached.CacheHits:N0} window executions were answered from the cache. Caller p50/p95/p99 {Seconds(cached.Latency.P50)} / {Seconds(cached.Latency.P95)} / {Seconds(cached.Latency.P99)}.");
        yield return "Executions above one per turn, by the revision they answered (merge window → merge window + cache): " + Breakdown(merged.ExtraExecutions, cached.ExtraExecutions) + F($"; retries add {merged.ModelCalls - merged.Executions:N0} → {cached.ModelCalls - cached.Executions:N0} model calls. An exact cache can only remove answers to a revision already answered; new messages and edits are new revisions and need an answer of their own.");
        int sharedTurns = trace.Turns - cached.ExtraExecutions.TurnsAnswered;
        double withoutSharedTurns = (1.0 - (double)(cached.ModelCalls + sharedTurns) / Baseline.ModelCalls) / perTurnCeiling;
        yield return F($"The per-turn ceiling assumes every turn needs an answer of its own. In the merge window + cache way, {sharedTurns:N0} turns had no execution of their own: the user sent the next turn within the window's quiet time, and one answer, for the newest revision, covered both. Counting one more call for each, its share of the ceiling would be {withoutSharedTurns:P1}. Retries alone take {(double)(cached.ModelCalls - cached.Executions) / (trace.Triggers.Count - trace.Turns):P1} of the ceiling.");
        yield return F($"Stale results: {singleFlight.StaleResults}, {merged.StaleResults} and {cached.StaleResults} in the guarded ways; answers for another session (another user's conversation): {singleFlight.CrossUser}, {merged.CrossUser} and {cached.CrossUser}. The singleflight key holds the revision, so only identical requests share; the merge window appends every caller's revision and answers the newest, and a trigger after a window closed opens a new window instead of joining the running execution; a cached answer is served only for the revision it was computed from.");
        yield return F($"Failures: without retries and fallback, callers would have met {singleFlight.AttemptFailures:N0}, {merged.AttemptFailures:N0} and {cached.AttemptFailures:N0} failed model calls; after them, {singleFlight.CallerFailures:N0}, {merged.CallerFailures:N0} and {cached.CallerFailures:N0} callers failed, and the fallback answered {singleFlight.FallbackAnswers:N0}, {merged.FallbackAnswers:N0} and {cached.FallbackAnswers:N0}. Unguarded, every failed call reaches a caller ({Baseline.CallerFailures:N0}), and a hung call holds its caller for {SimulatedModel.ClientTimeout.TotalSeconds:F0} s.");
        yield return F($"Callers still waiting when nothing was left to happen: {string.Join(", ", results.Select(result => $"{result.UnfinishedCallers} {Name(result.Way)}"))}.");
    }

    public static IEnumerable<string> ColumnNotes() =>
    [
        "Model calls: calls that reached the model, every attempt (retry) included. Executions: calls of the guarded method's core that reached the model, a retried one counted once.",
        "Reduction: fewer model calls than the unguarded way.",
        "p50/p95/p99: caller latency in virtual time, from the trigger's arrival to its outcome (answer, fallback or exception).",
        "Stale: callers whose answer was computed from a conversation revision older than their own.",
        "Cross-user: callers whose answer was computed for another session, that is another user's conversation.",
        "Attempt failures: model calls that failed (503, or a hang cut by the timeout or the client): what callers would see without retries and fallback. Caller failures: callers that got an exception after retries and fallback.",
        "Fallback answers: callers answered by the fallback, and the executions it answered.",
    ];

    public IEnumerable<(string Parameter, string Value)> Assumptions()
    {
        string F(FormattableString text) => text.ToString(Invariant);
        yield return ("Session arrivals", F($"Poisson, {SessionsPerSecond} per second"));
        yield return ("Turns per session", F($"geometric, mean {MeanTurnsPerSession}, at most {MaxTurnsPerSession}"));
        yield return ("Think time between turns", F($"log-normal, median {ThinkTimeMedianSeconds} s, σ {ThinkTimeSigma} (open loop: the trace does not wait for answers)"));
        yield return ("Messages per turn", F($"geometric, mean {MeanMessagesPerTurn}, at most {MaxMessagesPerTurn}"));
        yield return ("Typing gap inside a burst", F($"log-normal, median {TypingGapMedianSeconds} s, σ {TypingGapSigma}"));
        yield return ("Edits", F($"{EditProbability:P0} of messages, log-normal delay median {EditDelayMedianSeconds} s, σ {EditDelaySigma}; a new revision"));
        yield return ("Duplicate deliveries", F($"{DuplicateProbability:P0} of submits; extra copies geometric mean {MeanExtraDeliveries} (≤ {MaxExtraDeliveries}); delay log-normal median {DuplicateDelayMedianSeconds} s, σ {DuplicateDelaySigma}, clamped to [{DuplicateDelayMinSeconds}, {DuplicateDelayMaxSeconds}] s; same revision"));
        yield return ("Model latency", F($"log-normal median {SimulatedModel.MedianLatencyMs} ms, σ {SimulatedModel.LatencySigma}; {SimulatedModel.SlowShare:P0} slow calls: median {SimulatedModel.SlowMedianLatencyMs} ms, σ {SimulatedModel.SlowLatencySigma}"));
        yield return ("Model faults", F($"{settings.FaultRate:P1} of calls: {1 - SimulatedModel.HangShareOfFaults:P0} 503 after ~{SimulatedModel.OverloadedMedianLatencyMs} ms, {SimulatedModel.HangShareOfFaults:P0} hang until cancelled or {SimulatedModel.ClientTimeout.TotalSeconds:F0} s"));
        yield return ("Attempts (guarded ways)", F($"timeout {SupportBot.AttemptTimeoutMs} ms, {SupportBot.Retries} retries, base delay {SupportBot.RetryDelayMs} ms with jitter, fallback: hand over to an agent"));
        yield return ("Merge window", F($"per session, sliding: closes after {SupportBot.MergeQuietMs} ms without a trigger, at most {SupportBot.MergeMaxWaitMs} ms after the first; revisions appended, the newest answered through the singleflight"));
        if (settings.CachedWindow != MergeWindowSettings.Declared)
        {
            yield return ("Merge window (merge window + cache)", F($"{settings.CachedWindow}, set through the scene's configuration (LlmGuard:Scenes:{SupportBot.BurstCachedScene})"));
        }

        yield return ("Cache (merge window + cache)", F($"HybridCache (in-memory level only), {SupportBot.AnswerCacheSeconds} s; key: conversation ({{$conversation}}), session, revision; successes only, never fallback answers"));
    }

    public static IEnumerable<string> VirtualTimeNotes() =>
    [
        "A TimeProvider with a virtual clock and a timer queue carries every delay: model latency, Polly's timeouts and retry delays, merge windows. A driver jumps the clock to the next event (a trigger or a timer) and fires what is due.",
        F($"It moves the clock only when the thread pool is quiescent: no work item pending and the completed-work-item count unchanged over {ThreadPoolQuiescence.StableSamples} consecutive samples a few microseconds apart. LlmGuard's continuations run on the pool (ConfigureAwait(false), RunContinuationsAsynchronously), so this is when a step's consequences have all happened."),
        "Limit: the pool does not report items that are running. One that outlasts the sampling window (JIT, GC, a descheduled thread) is taken for idleness and its effects land at a later virtual instant; the replay warms up first, and a run ends only when every caller has its outcome (waiting in real time, up to 10 s, for work a false idle missed). Polly's retry jitter is not seeded, so figures can move by a few calls between runs of the same seed.",
    ];

    private static string F(FormattableString text) => text.ToString(Invariant);

    private double Reduction(WayResult result) => 1.0 - (double)result.ModelCalls / Baseline.ModelCalls;

    private static string Breakdown(ExtraExecutions merged, ExtraExecutions cached)
    {
        string Pair(string what, int before, int after) => string.Create(Invariant, $"{what} {before:N0} → {after:N0}");
        return string.Join(", ",
            Pair("a new message after the quiet time (a typing gap longer than the window's quiet time)", merged.MessageAfterQuiet, cached.MessageAfterQuiet),
            Pair("a new message after the window's cap closed it", merged.MessageAfterCap, cached.MessageAfterCap),
            Pair("an edit after its window closed", merged.EditAfterWindow, cached.EditAfterWindow),
            Pair("a late duplicate of a revision the window had answered with a newer one", merged.OlderRevisionAfterWindow, cached.OlderRevisionAfterWindow),
            Pair("a duplicate of an answered revision after its window closed", merged.SameRevisionAgain, cached.SameRevisionAgain))
            + string.Create(Invariant, $"; in all {merged.Total:N0} → {cached.Total:N0} over {merged.TurnsAnswered:N0} → {cached.TurnsAnswered:N0} answered turns");
    }

    private static string Seconds(TimeSpan value) => value.TotalSeconds.ToString("0.00", Invariant) + " s";

    public static string Name(ReplayWay way) => way switch
    {
        ReplayWay.Unguarded => "unguarded",
        ReplayWay.SingleFlight => "singleflight",
        ReplayWay.SingleFlightAndMergeWindow => "singleflight + merge window",
        ReplayWay.SingleFlightMergeWindowAndCache => "singleflight + merge window + cache",
        ReplayWay.SingleFlightAndCache => "singleflight + cache",
        _ => way.ToString(),
    };
}
