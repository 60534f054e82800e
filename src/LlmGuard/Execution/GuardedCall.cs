using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Caching;
using LlmGuard.Distribution;
using LlmGuard.Infrastructure;
using LlmGuard.Protection;
using LlmGuard.Telemetry;
using LlmGuard.Usage;
using Microsoft.Extensions.Logging;

namespace LlmGuard.Execution;

/// <summary>
/// One call of a guarded method, as the runtime carries it to the execution it starts or joins: the caller's
/// arguments, the generated attempt, fallback and merge, and the policy the call started under.
/// </summary>
internal readonly struct GuardedCall<TArguments, TResult>
{
    // Cached once per instantiation, so merging a window's calls allocates no delegate per call.
    public static readonly Func<IReadOnlyList<GuardedCall<TArguments, TResult>>, GuardedCall<TArguments, TResult>> MergeCalls = MergeAll;
    public static readonly Func<GuardedCall<TArguments, TResult>, CancellationToken, ValueTask<TResult>> Execute = ExecuteSharedAsync;

    public GuardedCall(
        TArguments arguments,
        Func<TArguments, CancellationToken, ValueTask<TResult>> attempt,
        Func<TArguments, Exception, CancellationToken, ValueTask<TResult>>? fallback,
        Func<IReadOnlyList<TArguments>, TArguments>? merge,
        MethodPolicy<TResult> policy)
    {
        Arguments = arguments;
        Attempt = attempt;
        Fallback = fallback;
        Merge = merge;
        Policy = policy;
    }

    public TArguments Arguments { get; init; }

    public Func<TArguments, CancellationToken, ValueTask<TResult>> Attempt { get; }

    public Func<TArguments, Exception, CancellationToken, ValueTask<TResult>>? Fallback { get; }

    public Func<IReadOnlyList<TArguments>, TArguments>? Merge { get; }

    public MethodPolicy<TResult> Policy { get; }

    /// <summary>
    /// Gets the key a successful answer of this call's execution is stored under; <see langword="null"/> when the
    /// method caches nothing.
    /// </summary>
    public string? CacheKey { get; init; }

    /// <summary>
    /// Gets the scope and text the execution's semantic lookup compares; <see langword="null"/> when the method has no
    /// <c>[SemanticCacheText]</c> parameter or its policy has no semantic cache.
    /// </summary>
    public SemanticQuery? Semantic { get; init; }

    // The latest call's policy and arguments win; the generated merge collects [MergeAppend] values from every call.
    private static GuardedCall<TArguments, TResult> MergeAll(IReadOnlyList<GuardedCall<TArguments, TResult>> calls)
    {
        GuardedCall<TArguments, TResult> latest = calls[calls.Count - 1];
        var arguments = new TArguments[calls.Count];
        for (int i = 0; i < arguments.Length; i++)
        {
            arguments[i] = calls[i].Arguments;
        }

        return latest with { Arguments = latest.Merge!(arguments) };
    }

    /// <summary>Runs the execution of a call that shares it with nobody.</summary>
    /// <param name="call">The call.</param>
    /// <param name="caller">Where the caller reads the execution's report, when it observes itself.</param>
    /// <param name="executionToken">The caller's token.</param>
    public static ValueTask<TResult> ExecuteUnshared(GuardedCall<TArguments, TResult> call, IReportedExecution? caller, CancellationToken executionToken) =>
        IsReported(call)
            ? ExecuteReportedAsync(call, caller, sharedBy: null, executionToken)
            : ExecuteAsync(call, executionToken);

    // Telemetry and usage accounting are the consumers of an execution's report; ObservesExecutions asks both, with a
    // few field reads, so an execution nobody watches allocates nothing for them. A cached method's execution always
    // reports: it stores the tokens it used with its answer (each later hit saves them), and it is a miss on its way
    // to the model, where a report costs nothing that shows.
    private static bool IsReported(GuardedCall<TArguments, TResult> call) => call.CacheKey is not null || call.Policy.Telemetry.ObservesExecutions;

    // Runs inside a singleflight flight or a merge window, which is the innermost execution of this flow: that is
    // where its callers find the report. Looked up only when something needs the report.
    // A scene that does not span instances pays one field read for the hook.
    private static ValueTask<TResult> ExecuteSharedAsync(GuardedCall<TArguments, TResult> call, CancellationToken executionToken)
    {
        if (call.Policy.Distributed is { } distributed && ExecutingFlights.Innermost is { } flight)
        {
            return ExecuteDistributedAsync(call, distributed, flight, executionToken);
        }

        return ExecuteLocal(call, IsReported(call) ? ExecutingFlights.Innermost : null, executionToken);
    }

    private static ValueTask<TResult> ExecuteLocal(GuardedCall<TArguments, TResult> call, IExecutingFlight? flight, CancellationToken executionToken) =>
        IsReported(call) ? ExecuteReportedAsync(call, flight, flight, executionToken) : ExecuteAsync(call, executionToken);

    // The local flight's execution, offered to the other instances: the hook either runs it here or answers with
    // another instance's. The hook must never cost a caller its answer, so a hook that fails before it ran the
    // execution makes it run here, and one that fails after has its failure replaced by the execution's own outcome.
    private static async ValueTask<TResult> ExecuteDistributedAsync(
        GuardedCall<TArguments, TResult> call,
        IDistributedFlights distributed,
        IExecutingFlight flight,
        CancellationToken executionToken)
    {
        var local = new LocalExecution(call, flight);
        try
        {
            // The guard key names the arguments, not the method: two methods of one scene may build equal keys.
            string key = call.Policy.Method.Version.Length == 0 ? flight.Key : call.Policy.Method.Version + ":" + flight.Key;
            return await distributed.RunAsync(call.Policy.Scene, key, local.Execute, executionToken).ConfigureAwait(false);
        }
        catch (Exception) when (local.Run is not null || !executionToken.IsCancellationRequested)
        {
            return await (local.Run ?? ExecuteLocal(call, flight, executionToken).AsTask()).ConfigureAwait(false);
        }
    }

    // Remembers whether the hook started the execution, and its task, so the hook's own failure never runs it twice.
    private sealed class LocalExecution
    {
        private readonly GuardedCall<TArguments, TResult> _call;
        private readonly IExecutingFlight _flight;

        public LocalExecution(GuardedCall<TArguments, TResult> call, IExecutingFlight flight)
        {
            _call = call;
            _flight = flight;
            Execute = Start;
        }

        public Func<CancellationToken, ValueTask<TResult>> Execute { get; }

        public Task<TResult>? Run { get; private set; }

        private ValueTask<TResult> Start(CancellationToken executionToken)
        {
            // The hook is told it runs at most once; a second call joins the first rather than calling the model again.
            Run ??= ExecuteLocal(_call, _flight, executionToken).AsTask();
            return new ValueTask<TResult>(Run);
        }
    }

    private static ValueTask<TResult> ExecuteAsync(GuardedCall<TArguments, TResult> call, CancellationToken executionToken) =>
        call.Fallback is null ? RunAttempts(call, executionToken)
        : ExecuteWithFallbackAsync(call, executionToken);

    // A scene without protection pays this one field read.
    private static ValueTask<TResult> RunAttempts(GuardedCall<TArguments, TResult> call, CancellationToken executionToken) =>
        call.Policy.Protection is { } protection
            ? protection.ExecuteAsync(static (c, failedAttempt, token) => c.Policy.Pipeline.ExecuteAsync(c.Attempt, c.Arguments, failedAttempt, token), call, executionToken)
            : call.Policy.Pipeline.ExecuteAsync(call.Attempt, call.Arguments, executionToken);

    // A caller can miss the cache just before an execution stores its answer and reach the singleflight just after that
    // execution ended; the execution it then starts reads the cache once more before it calls the model. Then, with the
    // semantic cache on, it looks for a similar text, paying one embedding call for all of its callers.
    private static async ValueTask<CacheLookup<TResult>> FindStoredAnswerAsync(GuardedCall<TArguments, TResult> call, ILogger? logger, CancellationToken executionToken)
    {
        if (await call.Policy.Cache!.FindAsync(call.CacheKey!, executionToken, memoryOnly: true).ConfigureAwait(false) is { } stored)
        {
            return CacheLookup<TResult>.Hit(stored.Value, stored.Tokens, stored.Origin);
        }

        return call.Semantic is { } query && call.Policy.Semantic is { } semantic
            ? await semantic.LookupAsync(query, logger, executionToken).ConfigureAwait(false)
            : CacheLookup<TResult>.Miss(default);
    }

    private static void StoreSemantic(GuardedCall<TArguments, TResult> call, ReadOnlyMemory<float> embedding, TResult result, long tokens)
    {
        if (call.Semantic is { } query && call.Policy.Semantic is { } semantic)
        {
            semantic.Add(query, embedding, result, tokens);
        }
    }

    private static async ValueTask<TResult> ExecuteWithFallbackAsync(GuardedCall<TArguments, TResult> call, CancellationToken executionToken)
    {
        try
        {
            return await RunAttempts(call, executionToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (!executionToken.IsCancellationRequested)
        {
            // Every attempt failed, or protection refused the execution, and at least one caller is still waiting.
            return await call.Fallback!(call.Arguments, exception, executionToken).ConfigureAwait(false);
        }
    }

    // The same execution as ExecuteAsync, reported: a budget may refuse it before any attempt; its activity (parent
    // of the attempts'), log scope, events and metrics; its tokens, from the result or the core's LlmUsage.Report
    // calls; and the report its callers and the usage ledger read when it ends.
    private static async ValueTask<TResult> ExecuteReportedAsync(
        GuardedCall<TArguments, TResult> call,
        IReportedExecution? target,
        IExecutingFlight? sharedBy,
        CancellationToken executionToken)
    {
        MethodPolicy<TResult> policy = call.Policy;
        GuardRuntime runtime = policy.Runtime;
        GuardTelemetry telemetry = policy.Telemetry;
        ILogger? logger = telemetry.Logger;
        TimeProvider clock = runtime.TimeProvider;
        LlmCallContext? context = LlmCallContext.Current;
        ReadOnlyMemory<float> embedding = default;
        if (call.CacheKey is not null)
        {
            CacheLookup<TResult> lookup = await FindStoredAnswerAsync(call, logger, executionToken).ConfigureAwait(false);
            if (lookup.Found)
            {
                // No core ran: the callers are reported as answered from the cache, and there is no execution to record.
                if (target is not null)
                {
                    target.Report = ExecutionReport.FromCache(policy.Scene, context, lookup.Tokens, lookup.Origin);
                }

                return lookup.Value;
            }

            embedding = lookup.Embedding;
        }

        var report = new ExecutionReport(policy.Scene, context);
        var observation = new ExecutionObservation(telemetry, report, sharedBy?.Key);
        if (target is not null)
        {
            target.Report = report;
        }

        using Activity? activity = GuardTelemetry.StartExecution(policy.ExecutionActivityName, policy.Scene);
        report.ActivityContext = activity?.Context ?? default;

        // The scope covers the core too, so the team's own log lines from inside it carry who the call was for.
        using IDisposable? scope = context is null ? null : logger?.BeginScope(new CallContextLogState(context));
        long startedAt = clock.GetTimestamp();
        try
        {
            if (runtime.Usage.TryAdmit(report.Scene, context) is { } refusal)
            {
                // The core never runs: the fallback answers, as after failed attempts, or the callers get the refusal.
                throw refusal;
            }

            // Set inside this async method, so only the attempts and the fallback below see it; only when someone reads
            // tokens (a cached answer keeps them), since setting it costs the flow a new execution context.
            if (runtime.Usage.IsActive || telemetry.RecordsTokens || call.CacheKey is not null)
            {
                LlmUsage.Current = report;
            }
            TResult result = policy.Protection is { } protection
                ? await protection.ExecuteAsync(
                    static (run, failedAttempt, token) => AttemptsAsync(run.Call, run.Observation, failedAttempt, token),
                    (Call: call, Observation: observation),
                    executionToken).ConfigureAwait(false)
                : await AttemptsAsync(call, observation, failedAttempt: null, executionToken).ConfigureAwait(false);
            if (policy.Method.Usage is { } readUsage)
            {
                LlmTokenUsage usage = readUsage(result);
                report.AddUsage(usage.InputTokens, usage.OutputTokens, usage.Model);
            }

            report.Result = CallResults.Success;
            if (call.CacheKey is { } cacheKey)
            {
                long tokens = (report.InputTokens ?? 0) + (report.OutputTokens ?? 0);
                await policy.Cache!.StoreAsync(cacheKey, result, tokens, report.ActivityContext).ConfigureAwait(false);
                StoreSemantic(call, embedding, result, tokens);
            }

            return result;
        }
        catch (Exception exception) when (call.Fallback is not null && !executionToken.IsCancellationRequested)
        {
            // A refusal answers with the fallback too, but the caller was rejected, not failed over.
            bool refused = IsRefusal(exception, observation);
            report.Result = refused ? CallResults.Rejected : CallResults.Fallback;
            RecordRejection(telemetry, policy.Scene, exception, observation);

            // Breakers and limits write their own events, at a rate a shedding burst cannot flood; a budget has none.
            if (logger is not null && !(refused && exception is LlmCircuitOpenException or LlmLimitExceededException))
            {
                GuardLog.FallbackUsed(logger, policy.Scene, observation.KeyHash, exception);
            }

            try
            {
                TResult answer = await call.Fallback(call.Arguments, exception, executionToken).ConfigureAwait(false);
                telemetry.RecordFallback(policy.Scene, policy.Method.FallbackScene);
                return answer;
            }
            catch (Exception fallbackFailure)
            {
                report.Result = ResultOf(fallbackFailure, observation, executionToken);
                LogFailure(logger, report, observation, fallbackFailure);
                throw;
            }
        }
        catch (Exception exception)
        {
            report.Result = ResultOf(exception, observation, executionToken);
            RecordRejection(telemetry, policy.Scene, exception, observation);
            LogFailure(logger, report, observation, exception);
            throw;
        }
        finally
        {
            report.Duration = clock.GetElapsedTime(startedAt);
            report.CompletedAt = clock.GetUtcNow();

            // Callers that join between this moment and the flight's removal are answered but not counted: the
            // window is a few instructions wide, and closing it would cost every shared call a lock.
            report.Callers = sharedBy?.Callers ?? 1;
            telemetry.RecordExecution(report, activity);
            runtime.Usage.Complete(report);
        }
    }

    private static ValueTask<TResult> AttemptsAsync(GuardedCall<TArguments, TResult> call, ExecutionObservation observation, StrongBox<bool>? failedAttempt, CancellationToken executionToken)
    {
        observation.AttemptsStarted = true;
        return call.Policy.Pipeline.ExecuteAsync(call.Attempt, call.Arguments, observation, failedAttempt, executionToken);
    }

    // Only a refusal of this execution, raised before its attempts started, is this scene's rejection. One that came
    // out of the core (another guarded method it called was refused, say) is a failure of this execution like any other.
    private static bool IsRefusal(Exception exception, ExecutionObservation observation) =>
        exception is LlmCallRejectedException && !observation.AttemptsStarted;

    private static string ResultOf(Exception exception, ExecutionObservation observation, CancellationToken executionToken) =>
        exception is OperationCanceledException && executionToken.IsCancellationRequested ? CallResults.Cancelled
        : IsRefusal(exception, observation) ? CallResults.Rejected
        : CallResults.Error;

    private static void RecordRejection(GuardTelemetry telemetry, string scene, Exception exception, ExecutionObservation observation)
    {
        if (exception is LlmCallRejectedException rejection && IsRefusal(exception, observation))
        {
            telemetry.RecordRejection(scene, rejection);
        }
    }

    private static void LogFailure(ILogger? logger, ExecutionReport report, ExecutionObservation observation, Exception exception)
    {
        if (logger is not null && report.Result == CallResults.Error)
        {
            GuardLog.ExecutionFailed(logger, report.Scene, observation.KeyHash, exception);
        }
    }
}
