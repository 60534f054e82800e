using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Infrastructure;

namespace LlmGuard.Execution;

/// <summary>
/// One call of a guarded method, as the runtime carries it to the execution it starts or joins: the caller's
/// arguments, the generated attempt, fallback and merge, and the policy the call started under.
/// </summary>
internal readonly struct GuardedCall<TArguments, TResult>
{
    // Cached once per instantiation, so merging a window's calls allocates no delegate per call.
    public static readonly Func<IReadOnlyList<GuardedCall<TArguments, TResult>>, GuardedCall<TArguments, TResult>> MergeCalls = MergeAll;
    public static readonly Func<GuardedCall<TArguments, TResult>, CancellationToken, ValueTask<TResult>> Execute = ExecuteAsync;

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

    /// <summary>Gets whether the call shares its execution (singleflight or merge window) with other callers.</summary>
    public bool Shared { get; init; }

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

    private static ValueTask<TResult> ExecuteAsync(GuardedCall<TArguments, TResult> call, CancellationToken executionToken)
    {
        if (ExecutionReports.Start(call.Policy) is { } report)
        {
            return ExecuteReportedAsync(call, report, executionToken);
        }

        return call.Fallback is null
            ? call.Policy.Pipeline.ExecuteAsync(call.Attempt, call.Arguments, executionToken)
            : ExecuteWithFallbackAsync(call, executionToken);
    }

    private static async ValueTask<TResult> ExecuteWithFallbackAsync(GuardedCall<TArguments, TResult> call, CancellationToken executionToken)
    {
        try
        {
            return await call.Policy.Pipeline.ExecuteAsync(call.Attempt, call.Arguments, executionToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (!executionToken.IsCancellationRequested)
        {
            // Every attempt failed, and at least one caller is still waiting.
            return await call.Fallback!(call.Arguments, exception, executionToken).ConfigureAwait(false);
        }
    }

    // The same execution, accounted for: a budget may refuse it before any attempt, its tokens come from the result
    // or from the core's LlmUsage.Report calls, and the usage ledger learns what it did when it ends.
    private static async ValueTask<TResult> ExecuteReportedAsync(GuardedCall<TArguments, TResult> call, ExecutionReport report, CancellationToken executionToken)
    {
        GuardRuntime runtime = call.Policy.Runtime;

        // The singleflight flight or merge window that runs this execution; an unshared call runs inside none of its own.
        IExecutingFlight? sharedBy = call.Shared ? ExecutingFlights.Innermost : null;
        long startedAt = runtime.TimeProvider.GetTimestamp();
        try
        {
            if (runtime.Usage.TryAdmit(report.Scene, report.Context) is { } refusal)
            {
                // The core never runs: the fallback answers, as for any other refusal, or the callers get the refusal.
                report.Result = "rejected";
                if (call.Fallback is null)
                {
                    throw refusal;
                }

                return await call.Fallback(call.Arguments, refusal, executionToken).ConfigureAwait(false);
            }

            // Set inside this async method, so only the attempts and the fallback below see it.
            LlmUsage.Current = report;
            TResult result;
            try
            {
                result = await call.Policy.Pipeline.ExecuteAsync(call.Attempt, call.Arguments, executionToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (call.Fallback is not null && !executionToken.IsCancellationRequested)
            {
                report.Result = "fallback";
                return await call.Fallback(call.Arguments, exception, executionToken).ConfigureAwait(false);
            }

            if (call.Policy.Method.Usage is { } readUsage)
            {
                LlmTokenUsage usage = readUsage(result);
                report.AddUsage(usage.InputTokens, usage.OutputTokens, usage.Model);
            }

            return result;
        }
        catch (Exception exception) when (report.Result != "rejected")
        {
            report.Result = exception is OperationCanceledException && executionToken.IsCancellationRequested ? "cancelled" : "error";
            throw;
        }
        finally
        {
            report.Duration = runtime.TimeProvider.GetElapsedTime(startedAt);
            report.CompletedAt = runtime.TimeProvider.GetUtcNow();

            // Callers that join between this moment and the flight's removal are answered but not counted: the
            // window is a few instructions wide, and closing it would cost every shared call a lock.
            report.Callers = sharedBy?.Callers ?? 1;
            runtime.Usage.Complete(report);
        }
    }
}
