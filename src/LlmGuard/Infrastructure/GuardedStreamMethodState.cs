using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using LlmGuard.Execution;
using LlmGuard.Streaming;

namespace LlmGuard.Infrastructure;

/// <summary>
/// What one guarded streaming method has on one <see cref="GuardRuntime"/>: the shared streams in flight, one per key,
/// and the policy the next upstream starts under. Generated code hands each call to <see cref="Stream{TArguments}"/>,
/// or to <see cref="StreamUnshared{TArguments}"/> for a method with <c>SingleFlight = false</c>.
/// </summary>
/// <typeparam name="T">The items the stream produces.</typeparam>
public sealed class GuardedStreamMethodState<T> : IGuardedMethodState
{
    private readonly GuardedStreamMethod<T> _method;
    private readonly ConcurrentDictionary<string, SharedStream<T>> _streams = new(StringComparer.Ordinal);
    private readonly StreamPumps _pumps = new();
    private volatile StreamPolicy<T> _policy;

    internal GuardedStreamMethodState(GuardedStreamMethod<T> method, GuardRuntime runtime)
    {
        _method = method;
        Runtime = runtime;
        _policy = StreamPolicy<T>.Create(method, runtime);
    }

    /// <summary>Gets the runtime this state belongs to.</summary>
    public GuardRuntime Runtime { get; }

    /// <summary>Gets the policy the next call arrives under.</summary>
    internal StreamPolicy<T> Policy => _policy;

    string IGuardedMethodState.Scene => _method.Scene;

    // Running upstreams, not listed streams: an unshared one, or one closed after dropping an item, runs unlisted.
    int IGuardedMethodState.InFlightCount => _pumps.Running;

    /// <summary>
    /// Streams one call's answer, shared with the other calls of its key: the first consumer starts the upstream,
    /// and every consumer that joins before the replay buffer dropped an item gets every item from the first. A method
    /// that caches streams a completed answer of the key stored whole, without an upstream.
    /// </summary>
    /// <typeparam name="TArguments">The arguments of a call; passed to the delegates.</typeparam>
    /// <param name="key">The key: calls with equal keys while a stream runs share its upstream.</param>
    /// <param name="arguments">This call's arguments; the upstream runs with those of the call that started it.</param>
    /// <param name="core">Starts the upstream once per attempt, with the attempt's token.</param>
    /// <param name="fallback">
    /// Streams the answer when every attempt failed before a first item, or the upstream was refused;
    /// <see langword="null"/> when the method has none.
    /// </param>
    /// <param name="cancellationToken">Ends this consumer only; the upstream is cancelled when its last consumer leaves.</param>
    /// <returns>
    /// The items, from the first. Before the first item a failure (or a refusal by the scene's breaker, limits or a
    /// budget) ends the enumeration as it is; after it, every consumer gets a <see cref="LlmStreamInterruptedException"/>
    /// around it. A consumer more than the replay bound behind gets a <see cref="LlmStreamOverflowException"/>.
    /// </returns>
    public IAsyncEnumerable<T> Stream<TArguments>(
        string key,
        TArguments arguments,
        Func<TArguments, CancellationToken, IAsyncEnumerable<T>> core,
        Func<TArguments, Exception, CancellationToken, IAsyncEnumerable<T>>? fallback,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(core);
        return new GuardedStream<T>(() => _policy, key, (policy, cacheKey) => Join(policy, key, cacheKey, arguments, core, fallback), cancellationToken);
    }

    /// <summary>
    /// Streams one call's answer from an upstream of its own, which no other call shares (<c>SingleFlight = false</c>):
    /// each enumeration of the returned stream starts one.
    /// </summary>
    /// <typeparam name="TArguments">The arguments of a call; passed to the delegates.</typeparam>
    /// <param name="arguments">This call's arguments.</param>
    /// <param name="core">Starts the upstream once per attempt, with the attempt's token.</param>
    /// <param name="fallback">
    /// Streams the answer when every attempt failed before a first item; <see langword="null"/> when the method has none.
    /// </param>
    /// <param name="cancellationToken">Ends the enumeration and cancels its upstream.</param>
    /// <returns>
    /// The items. Before the first item a failure ends the enumeration as it is; after it, a
    /// <see cref="LlmStreamInterruptedException"/> around it.
    /// </returns>
    public IAsyncEnumerable<T> StreamUnshared<TArguments>(
        TArguments arguments,
        Func<TArguments, CancellationToken, IAsyncEnumerable<T>> core,
        Func<TArguments, Exception, CancellationToken, IAsyncEnumerable<T>>? fallback,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(core);
        return new GuardedStream<T>(() => _policy, key: null, (policy, _) => (StartUnshared(policy, arguments, core, fallback), true), cancellationToken);
    }

    // The runtime calls this under its lock on a reload; upstreams already running keep the policy they started under.
    void IGuardedMethodState.Reconfigure() => _policy = StreamPolicy<T>.Create(_method, Runtime);

    private SharedStream<T> StartUnshared<TArguments>(
        StreamPolicy<T> policy,
        TArguments arguments,
        Func<TArguments, CancellationToken, IAsyncEnumerable<T>> core,
        Func<TArguments, Exception, CancellationToken, IAsyncEnumerable<T>>? fallback)
    {
        // Not listed: no later call can join it; the runtime still counts it in flight until it ends.
        var stream = new SharedStream<T>(policy, listing: null, key: null, pumps: _pumps);
        stream.TryJoin();
        stream.Start(arguments, core, fallback);
        return stream;
    }

    private (SharedStream<T> Stream, bool Started) Join<TArguments>(
        StreamPolicy<T> policy,
        string key,
        string? cacheKey,
        TArguments arguments,
        Func<TArguments, CancellationToken, IAsyncEnumerable<T>> core,
        Func<TArguments, Exception, CancellationToken, IAsyncEnumerable<T>>? fallback)
    {
        // Each pass either joins, starts a stream, or removes a closed one that is about to unlist itself.
        while (true)
        {
            if (_streams.TryGetValue(key, out SharedStream<T>? running))
            {
                if (running.TryJoin())
                {
                    return (running, false);
                }

                _streams.TryRemove(new KeyValuePair<string, SharedStream<T>>(key, running));
                continue;
            }

            var started = new SharedStream<T>(policy, _streams, key, cacheKey, _pumps);
            started.TryJoin();
            if (_streams.TryAdd(key, started))
            {
                started.Start(arguments, core, fallback);
                return (started, true);
            }
        }
    }
}
