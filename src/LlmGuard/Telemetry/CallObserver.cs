using System;
using System.Diagnostics;
using System.Threading.Tasks;
using LlmGuard.Execution;
using LlmGuard.Protection;

namespace LlmGuard.Telemetry;

/// <summary>
/// Reports one caller of a guarded method when its answer arrives: how it got it (<c>llmguard.outcome</c>), how it
/// ended (<c>llmguard.result</c>), how long it waited, the tokens another caller's execution saved it, and, for a
/// caller answered by another caller's execution, an activity linked to that execution's.
/// </summary>
internal static class CallObserver
{
    /// <summary>What is known of a caller when it arrives.</summary>
    internal readonly struct Arrival
    {
        private Arrival(string scene, long startedAt, LlmCallContext? context, ActivityContext parent, DateTime startedAtUtc)
        {
            Scene = scene;
            StartedAt = startedAt;
            Context = context;
            Parent = parent;
            StartedAtUtc = startedAtUtc;
        }

        public string Scene { get; }

        public long StartedAt { get; }

        public LlmCallContext? Context { get; }

        public ActivityContext Parent { get; }

        /// <summary>Gets when the caller arrived, on the wall clock activities use; default when nothing listens to traces.</summary>
        public DateTime StartedAtUtc { get; }

        public static Arrival Now(string scene, TimeProvider clock) =>
            GuardTelemetry.ActivitySource.HasListeners()
                ? new(scene, clock.GetTimestamp(), LlmCallContext.Current, Activity.Current?.Context ?? default, DateTime.UtcNow)
                : new(scene, clock.GetTimestamp(), LlmCallContext.Current, default, default);
    }

    /// <summary>Waits for <paramref name="answer"/>, then reports the caller; the answer or failure passes through unchanged.</summary>
    /// <param name="answer">The caller's wait, as singleflight or the merge window returned it.</param>
    /// <param name="telemetry">The runtime's telemetry.</param>
    /// <param name="clock">The runtime's clock, which the wait is measured on.</param>
    /// <param name="arrival">What was known when the caller arrived.</param>
    /// <param name="execution">The execution the caller waits for; <see langword="null"/> when it ended before joining one.</param>
    /// <param name="sharedOutcome">
    /// How the caller got its answer when the execution is not its own: <c>joined</c> or <c>merged</c>; null when the
    /// caller started it (a merge window's opener still ends up merged when a newer window took it over).
    /// </param>
    public static Task<TResult> ObserveAsync<TResult>(
        Task<TResult> answer,
        GuardTelemetry telemetry,
        TimeProvider clock,
        Arrival arrival,
        IReportedExecution? execution,
        string? sharedOutcome)
    {
        if (!answer.IsCompleted)
        {
            return ObserveWhenAnsweredAsync(answer, telemetry, clock, arrival, execution, sharedOutcome);
        }

        // Answered already (a core that completed at once): reported now, and the caller gets the same task.
        string result = answer.IsCompletedSuccessfully ? ResultOfAnswer(execution)
            : answer.IsCanceled ? CallResults.Cancelled
            : IsRejection(answer.Exception?.InnerException, execution) ? CallResults.Rejected
            : CallResults.Error;
        Report(telemetry, clock, arrival, execution, sharedOutcome, result);
        return answer;
    }

    // The execution decides: a refusal that came out of its core (another guarded method refused) is its error.
    private static bool IsRejection(Exception? exception, IReportedExecution? execution) =>
        exception is LlmCallRejectedException
        && (execution?.Report is not { } report || report.Result == CallResults.Rejected);

    // A fallback answer is still an answer: only the execution knows it was one.
    private static string ResultOfAnswer(IReportedExecution? execution) =>
        execution?.Report?.Result is CallResults.Fallback or CallResults.Rejected ? execution.Report.Result : CallResults.Success;

    private static async Task<TResult> ObserveWhenAnsweredAsync<TResult>(
        Task<TResult> answer,
        GuardTelemetry telemetry,
        TimeProvider clock,
        Arrival arrival,
        IReportedExecution? execution,
        string? sharedOutcome)
    {
        string result = CallResults.Success;
        try
        {
            TResult value = await answer.ConfigureAwait(false);
            result = ResultOfAnswer(execution);
            return value;
        }
        catch (OperationCanceledException) when (answer.IsCanceled)
        {
            result = CallResults.Cancelled;
            throw;
        }
        catch (Exception exception) when (IsRejection(exception, execution))
        {
            result = CallResults.Rejected;
            throw;
        }
        catch (Exception)
        {
            result = CallResults.Error;
            throw;
        }
        finally
        {
            Report(telemetry, clock, arrival, execution, sharedOutcome, result);
        }
    }

    /// <summary>Reports a caller answered from the cache: outcome <c>cached</c>, and the tokens the stored execution used as saved.</summary>
    public static void ReportCached(GuardTelemetry telemetry, TimeProvider clock, Arrival arrival, long tokensSaved, ActivityContext origin)
    {
        telemetry.RecordCall(arrival.Scene, CallOutcomes.Cached, CallResults.Success, clock.GetElapsedTime(arrival.StartedAt), arrival.Context, tokensSaved);
        if (arrival.StartedAtUtc != default)
        {
            GuardTelemetry.RecordSharedCall(arrival.Scene, CallOutcomes.Cached, CallResults.Success, arrival.Parent, arrival.StartedAtUtc, origin);
        }
    }

    /// <summary>
    /// Reports one consumer of a guarded stream when it ends: how it got its items (<c>executed</c>, <c>joined</c> or
    /// <c>cached</c>), how it ended, how long it read, and, for a consumer of someone else's upstream or of the cache,
    /// the tokens saved and an activity linked to the upstream's.
    /// </summary>
    public static void ReportConsumer(GuardTelemetry telemetry, TimeProvider clock, Arrival arrival, string outcome, string result, long tokensSaved, ActivityContext origin)
    {
        telemetry.RecordCall(arrival.Scene, outcome, result, clock.GetElapsedTime(arrival.StartedAt), arrival.Context, result == CallResults.Cancelled ? 0 : tokensSaved);
        if (arrival.StartedAtUtc != default && outcome != CallOutcomes.Executed)
        {
            GuardTelemetry.RecordSharedCall(arrival.Scene, outcome, result, arrival.Parent, arrival.StartedAtUtc, origin);
        }
    }

    private static void Report(GuardTelemetry telemetry, TimeProvider clock, Arrival arrival, IReportedExecution? execution, string? sharedOutcome, string result)
    {
        ExecutionReport? report = execution?.Report;
        bool fromCache = report?.AnsweredFromCache == true;

        // Answered by the semantic cache: every caller of the execution, its starter included, got a stored answer.
        string outcome = fromCache ? CallOutcomes.Cached
            : sharedOutcome ?? (execution?.WasTakenOver == true ? CallOutcomes.Merged : CallOutcomes.Executed);

        // A caller that left was answered by nobody, and the execution it left may still be running.
        long tokensSaved = result == CallResults.Cancelled || report is null ? 0
            : fromCache ? report.SavedTokens
            : outcome != CallOutcomes.Executed ? (report.InputTokens ?? 0) + (report.OutputTokens ?? 0)
            : 0;
        telemetry.RecordCall(arrival.Scene, outcome, result, clock.GetElapsedTime(arrival.StartedAt), arrival.Context, tokensSaved);

        // A caller that started the execution is traced by the execution's own activity.
        if (arrival.StartedAtUtc != default && outcome != CallOutcomes.Executed)
        {
            GuardTelemetry.RecordSharedCall(arrival.Scene, outcome, result, arrival.Parent, arrival.StartedAtUtc, report?.ActivityContext ?? default);
        }
    }
}
