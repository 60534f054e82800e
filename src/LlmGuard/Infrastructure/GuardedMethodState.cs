using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Caching;
using LlmGuard.Execution;
using LlmGuard.Telemetry;

namespace LlmGuard.Infrastructure;

internal interface IGuardedMethodState
{
    int InFlightCount { get; }

    string Scene { get; }

    /// <summary>Builds the policy again from the runtime's current options; calls already started keep theirs.</summary>
    void Reconfigure();
}

/// <summary>
/// What one guarded method has on one <see cref="GuardRuntime"/>: the executions in flight and the policy its calls
/// start under. Generated code hands each call to one of its <c>RunAsync</c> overloads or to <see cref="RunUnsharedAsync"/>.
/// </summary>
/// <typeparam name="TResult">The result the guarded method produces.</typeparam>
public sealed class GuardedMethodState<TResult> : IGuardedMethodState
{
    private readonly GuardedMethod<TResult> _method;
    private volatile MethodPolicy<TResult> _policy;

    // Merge windows of replaced policies: calls that joined them are still waiting, and the runtime counts them in flight.
    private volatile MergeWindow<TResult>[] _retiredMerges = Array.Empty<MergeWindow<TResult>>();

    internal GuardedMethodState(GuardedMethod<TResult> method, GuardRuntime runtime)
    {
        _method = method;
        Runtime = runtime;
        _policy = MethodPolicy<TResult>.Create(method, runtime);
    }

    /// <summary>Gets the runtime this state belongs to.</summary>
    public GuardRuntime Runtime { get; }

    internal SingleFlight<TResult> Flights { get; } = new();

    string IGuardedMethodState.Scene => _method.Scene;

    int IGuardedMethodState.InFlightCount
    {
        get
        {
            int count = Flights.Count + (_policy.Merges?.Count ?? 0);
            foreach (MergeWindow<TResult> retired in _retiredMerges)
            {
                count += retired.Count;
            }

            return count;
        }
    }

    // The runtime calls this under its lock, so reconfigurations never interleave.
    void IGuardedMethodState.Reconfigure()
    {
        MethodPolicy<TResult> previous = _policy;
        MethodPolicy<TResult> next = MethodPolicy<TResult>.Create(_method, Runtime, previous);
        if (previous.Merges is { } replaced && !ReferenceEquals(replaced, next.Merges))
        {
            // The replaced windows close and run on their own timers; once empty they are dropped at a later reload.
            // Retired before the swap, so InFlightCount may count a window twice for an instant but never misses it.
            var retired = new List<MergeWindow<TResult>>(_retiredMerges.Length + 1);
            foreach (MergeWindow<TResult> window in _retiredMerges)
            {
                if (window.Count > 0)
                {
                    retired.Add(window);
                }
            }

            retired.Add(replaced);
            _retiredMerges = retired.ToArray();
        }

        _policy = next;
    }

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
        return Run(key, new GuardedCall<TArguments, TResult>(arguments, attempt, fallback, merge, _policy), cancellationToken);
    }

    /// <summary>
    /// Runs one call of a method with a <see cref="SemanticCacheTextAttribute">[SemanticCacheText]</see> parameter, as
    /// the other overload does; when the scene turns the semantic cache on, an execution that finds no exact answer
    /// first looks for a stored answer to a similar text in <paramref name="semantic"/>'s scope.
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
    /// <param name="semantic">The call's scope (its key without the marked parameter) and its marked text.</param>
    /// <param name="cancellationToken">Ends this caller's wait only.</param>
    /// <returns>The execution's outcome, or a cancellation carrying <paramref name="cancellationToken"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="semantic"/> is the default value, which has no scope.</exception>
    public Task<TResult> RunAsync<TArguments>(
        string key,
        TArguments arguments,
        Func<TArguments, CancellationToken, ValueTask<TResult>> attempt,
        Func<TArguments, Exception, CancellationToken, ValueTask<TResult>>? fallback,
        Func<IReadOnlyList<TArguments>, TArguments>? merge,
        SemanticQuery semantic,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        if (semantic.Scope is null)
        {
            throw new ArgumentException("A semantic query needs the call's scope; create it with its constructor.", nameof(semantic));
        }

        MethodPolicy<TResult> policy = _policy;
        var call = new GuardedCall<TArguments, TResult>(arguments, attempt, fallback, merge, policy);

        // Carried only when the policy can use it, so a scene without the semantic cache runs exactly as any cached method.
        return Run(key, policy.Semantic is null ? call : call with { Semantic = semantic }, cancellationToken);
    }

    private Task<TResult> Run<TArguments>(string key, GuardedCall<TArguments, TResult> call, CancellationToken cancellationToken) =>
        call.Policy.Cache is { } cache ? RunCachedAsync(key, call, cache, cancellationToken) : RunSharedAsync(key, call, cancellationToken);

    private Task<TResult> RunSharedAsync<TArguments>(string key, GuardedCall<TArguments, TResult> call, CancellationToken cancellationToken)
    {
        MethodPolicy<TResult> policy = call.Policy;
        if (policy.Telemetry.ObservesCalls)
        {
            return RunObservedAsync(key, call, cancellationToken);
        }

        if (policy.Merges is { } merges)
        {
            return merges.JoinAsync(key, call, call.Merge is null ? null : GuardedCall<TArguments, TResult>.MergeCalls, GuardedCall<TArguments, TResult>.Execute, cancellationToken);
        }

        return Flights.RunAsync(key, call, GuardedCall<TArguments, TResult>.Execute, cancellationToken);
    }

    // A cached method's call: answered by a stored success of an earlier execution for the same key, or shared as any
    // other call, by an execution that stores its success. The guard key holds every part the answer depends on
    // (arguments and call-context partitions), so an entry is only found by calls that would have produced it.
    private Task<TResult> RunCachedAsync<TArguments>(string key, GuardedCall<TArguments, TResult> call, ResultCache<TResult> cache, CancellationToken cancellationToken)
    {
        string cacheKey = cache.KeyFor(key);
        MethodPolicy<TResult> policy = call.Policy;

        // Decided on arrival, as for any other call: a listener attached during the lookup has no arrival to measure from.
        bool observed = policy.Telemetry.ObservesCalls;
        CallObserver.Arrival arrival = observed ? CallObserver.Arrival.Now(policy.Scene, Runtime.TimeProvider) : default;
        ValueTask<CachedAnswer<TResult>?> lookup;
        try
        {
            lookup = cache.FindAsync(cacheKey, cancellationToken);
        }
        catch (Exception exception)
        {
            // HybridCache throws at once for a token already cancelled: the caller gets that in the returned task, as
            // from a lookup that fails later.
            lookup = ValueTask.FromException<CachedAnswer<TResult>?>(exception);
        }

        if (!lookup.IsCompletedSuccessfully)
        {
            return RunAfterLookupAsync(lookup, key, call with { CacheKey = cacheKey }, observed, arrival, cancellationToken);
        }

        // An entry held in memory is found at once: the caller gets the entry's completed task, or on a miss the task of
        // the execution it starts or joins, with no async method of its own around either.
        if (lookup.Result is { } hit)
        {
            ReportCached(hit, policy, observed, arrival);
            return hit.AsTask();
        }

        return RunSharedAsync(key, call with { CacheKey = cacheKey }, cancellationToken);
    }

    private async Task<TResult> RunAfterLookupAsync<TArguments>(
        ValueTask<CachedAnswer<TResult>?> lookup,
        string key,
        GuardedCall<TArguments, TResult> call,
        bool observed,
        CallObserver.Arrival arrival,
        CancellationToken cancellationToken)
    {
        if (await lookup.ConfigureAwait(false) is { } hit)
        {
            ReportCached(hit, call.Policy, observed, arrival);
            return hit.Value;
        }

        return await RunSharedAsync(key, call, cancellationToken).ConfigureAwait(false);
    }

    private void ReportCached(CachedAnswer<TResult> hit, MethodPolicy<TResult> policy, bool observed, CallObserver.Arrival arrival)
    {
        if (observed)
        {
            CallObserver.ReportCached(policy.Telemetry, Runtime.TimeProvider, arrival, hit.Tokens, hit.Origin);
        }
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
        if (!call.Policy.Telemetry.ObservesCalls)
        {
            return GuardedCall<TArguments, TResult>.ExecuteUnshared(call, caller: null, cancellationToken);
        }

        var arrival = CallObserver.Arrival.Now(call.Policy.Scene, Runtime.TimeProvider);
        var execution = new UnsharedExecution();
        Task<TResult> answer = GuardedCall<TArguments, TResult>.ExecuteUnshared(call, execution, cancellationToken).AsTask();
        return new ValueTask<TResult>(CallObserver.ObserveAsync(answer, call.Policy.Telemetry, Runtime.TimeProvider, arrival, execution, sharedOutcome: null));
    }

    // The same call as RunAsync's, reported when its answer arrives; taken only when something listens to calls.
    private Task<TResult> RunObservedAsync<TArguments>(string key, GuardedCall<TArguments, TResult> call, CancellationToken cancellationToken)
    {
        MethodPolicy<TResult> policy = call.Policy;
        var arrival = CallObserver.Arrival.Now(policy.Scene, Runtime.TimeProvider);
        Task<TResult> answer;
        IExecutingFlight? execution;
        string? sharedOutcome;
        if (policy.Merges is { } merges)
        {
            Func<IReadOnlyList<GuardedCall<TArguments, TResult>>, GuardedCall<TArguments, TResult>>? mergeCalls =
                call.Merge is null ? null : GuardedCall<TArguments, TResult>.MergeCalls;
            answer = merges.JoinAsync(key, call, mergeCalls, GuardedCall<TArguments, TResult>.Execute, cancellationToken, out execution, out bool opened);
            sharedOutcome = opened || execution is null ? null : CallOutcomes.Merged;
        }
        else
        {
            answer = Flights.RunAsync(key, call, GuardedCall<TArguments, TResult>.Execute, cancellationToken, out execution, out bool started);
            sharedOutcome = started || execution is null ? null : CallOutcomes.Joined;
        }

        return CallObserver.ObserveAsync(answer, policy.Telemetry, Runtime.TimeProvider, arrival, execution, sharedOutcome);
    }
}
