using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

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

    private static ValueTask<TResult> ExecuteAsync(GuardedCall<TArguments, TResult> call, CancellationToken executionToken) =>
        call.Fallback is null
            ? call.Policy.Pipeline.ExecuteAsync(call.Attempt, call.Arguments, executionToken)
            : ExecuteWithFallbackAsync(call, executionToken);

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
}
