using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Execution;

namespace LlmGuard.Infrastructure;

internal interface IGuardedMethodState
{
    int InFlightCount { get; }
}

/// <summary>
/// What one guarded method has on one <see cref="GuardRuntime"/>: the executions in flight and the policy its calls
/// start under. Generated code hands each call to <see cref="RunAsync"/> or <see cref="RunUnsharedAsync"/>.
/// </summary>
/// <typeparam name="TResult">The result the guarded method produces.</typeparam>
public sealed class GuardedMethodState<TResult> : IGuardedMethodState
{
    private readonly MethodPolicy<TResult> _policy;

    internal GuardedMethodState(GuardedMethod<TResult> method, GuardRuntime runtime)
    {
        Runtime = runtime;
        _policy = MethodPolicy<TResult>.Create(method, runtime);
    }

    /// <summary>Gets the runtime this state belongs to.</summary>
    public GuardRuntime Runtime { get; }

    internal SingleFlight<TResult> Flights { get; } = new();

    int IGuardedMethodState.InFlightCount => Flights.Count + (_policy.Merges?.Count ?? 0);

    /// <summary>
    /// Runs one call that shares its execution with the other calls of its key: it joins the merge window open for
    /// <paramref name="key"/> or opens one when the method merges calls, otherwise it waits for the execution in
    /// flight for the key or starts one.
    /// </summary>
    /// <typeparam name="TArguments">The arguments of a call; passed to the delegates, never captured.</typeparam>
    /// <param name="key">The key: calls with equal keys share an execution.</param>
    /// <param name="arguments">This call's arguments; an execution runs with those of the call that started it (or the merged ones).</param>
    /// <param name="attempt">Calls the core once, with the attempt's token.</param>
    /// <param name="fallback">Answers when every attempt failed and a caller still waits; <see langword="null"/> when the method has none.</param>
    /// <param name="merge">
    /// Combines the arguments of a merge window's calls, earlier first, into those of its execution; <see langword="null"/>
    /// when the latest call's arguments simply replace earlier ones.
    /// </param>
    /// <param name="cancellationToken">Ends this caller's wait only.</param>
    /// <returns>The execution's outcome, or a cancellation carrying <paramref name="cancellationToken"/>.</returns>
    public Task<TResult> RunAsync<TArguments>(
        string key,
        TArguments arguments,
        Func<TArguments, CancellationToken, ValueTask<TResult>> attempt,
        Func<TArguments, Exception, CancellationToken, ValueTask<TResult>>? fallback,
        Func<IReadOnlyList<TArguments>, TArguments>? merge,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        MethodPolicy<TResult> policy = _policy;
        var call = new GuardedCall<TArguments, TResult>(arguments, attempt, fallback, merge, policy) { Shared = true };
        if (policy.Merges is { } merges)
        {
            return merges.JoinAsync(key, call, merge is null ? null : GuardedCall<TArguments, TResult>.MergeCalls, GuardedCall<TArguments, TResult>.Execute, cancellationToken);
        }

        return Flights.RunAsync(key, call, GuardedCall<TArguments, TResult>.Execute, cancellationToken);
    }

    /// <summary>Runs one call in an execution of its own, cancelled by the caller's token (<c>SingleFlight = false</c>).</summary>
    /// <typeparam name="TArguments">The arguments of the call; passed to the delegates, never captured.</typeparam>
    /// <param name="arguments">The call's arguments.</param>
    /// <param name="attempt">Calls the core once, with the attempt's token.</param>
    /// <param name="fallback">Answers when every attempt failed and the caller still waits; <see langword="null"/> when the method has none.</param>
    /// <param name="cancellationToken">The caller's token, which is the execution's token.</param>
    /// <returns>The execution's outcome.</returns>
    public ValueTask<TResult> RunUnsharedAsync<TArguments>(
        TArguments arguments,
        Func<TArguments, CancellationToken, ValueTask<TResult>> attempt,
        Func<TArguments, Exception, CancellationToken, ValueTask<TResult>>? fallback,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        var call = new GuardedCall<TArguments, TResult>(arguments, attempt, fallback, merge: null, _policy);
        return GuardedCall<TArguments, TResult>.Execute(call, cancellationToken);
    }
}
