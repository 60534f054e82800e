using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using LlmGuard.Failures;
using LlmGuard.Streaming;
using Polly;

namespace LlmGuard.Infrastructure;

/// <summary>
/// What one guarded streaming method has on one <see cref="GuardRuntime"/>: the shared streams in flight, one per key.
/// Generated code hands each call to <see cref="Stream{TArguments}"/>.
/// </summary>
/// <typeparam name="T">The items the stream produces.</typeparam>
public sealed class GuardedStreamMethodState<T> : IGuardedMethodState
{
    private readonly GuardedStreamMethod<T> _method;
    private readonly ConcurrentDictionary<string, SharedStream<T>> _streams = new(StringComparer.Ordinal);

    internal GuardedStreamMethodState(GuardedStreamMethod<T> method, GuardRuntime runtime)
    {
        _method = method;
        Runtime = runtime;
        FirstItemTimeout = TimeSpan.FromMilliseconds(method.FirstItemTimeoutMs);
        IdleTimeout = TimeSpan.FromMilliseconds(method.IdleTimeoutMs);

        // The same classified retry as a guarded call's attempts; the deadlines are the stream's own, per item.
        var attempts = new ResiliencePipelineBuilder { TimeProvider = runtime.TimeProvider };
        if (method.MaxRetries > 0)
        {
            // Polly refuses a retry strategy without retries.
            attempts.AddRetry(AttemptRetries.Create(method.Scene, method.MaxRetries, method.RetryDelayMs, method.MaxRetryAfterMs, runtime));
        }

        Attempts = attempts.Build();
    }

    /// <summary>Gets the runtime this state belongs to.</summary>
    public GuardRuntime Runtime { get; }

    string IGuardedMethodState.Scene => _method.Scene;

    int IGuardedMethodState.InFlightCount => _streams.Count;

    internal TimeSpan FirstItemTimeout { get; }

    internal TimeSpan IdleTimeout { get; }

    internal ResiliencePipeline Attempts { get; }

    /// <summary>
    /// Streams one call's answer, shared with the other calls of its key: the first consumer starts the upstream,
    /// and every consumer, however late it joins, gets every item from the first.
    /// </summary>
    /// <typeparam name="TArguments">The arguments of a call; passed to the delegates.</typeparam>
    /// <param name="key">The key: calls with equal keys while a stream runs share its upstream.</param>
    /// <param name="arguments">This call's arguments; the upstream runs with those of the call that started it.</param>
    /// <param name="core">Starts the upstream once per attempt, with the attempt's token.</param>
    /// <param name="fallback">
    /// Streams the answer when every attempt failed before a first item; <see langword="null"/> when the method has none.
    /// </param>
    /// <param name="cancellationToken">Ends this consumer only; the upstream is cancelled when its last consumer leaves.</param>
    /// <returns>
    /// The items, from the first. Before the first item a failure ends the enumeration as it is; after it, every
    /// consumer gets a <see cref="LlmStreamInterruptedException"/> around it.
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
        return new GuardedStream<T>(() => Join(key, arguments, core, fallback), cancellationToken);
    }

    /// <summary>
    /// Streams one call's answer from an upstream of its own (<c>SingleFlight = false</c>): each enumeration starts its
    /// own upstream, and no other call joins it.
    /// </summary>
    /// <typeparam name="TArguments">The arguments of a call; passed to the delegates.</typeparam>
    /// <param name="arguments">This call's arguments.</param>
    /// <param name="core">Starts the upstream once per attempt, with the attempt's token.</param>
    /// <param name="fallback">
    /// Streams the answer when every attempt failed before a first item; <see langword="null"/> when the method has none.
    /// </param>
    /// <param name="cancellationToken">Ends the enumeration and its upstream.</param>
    /// <returns>The items, with the same failure rules as <see cref="Stream{TArguments}"/>.</returns>
    public IAsyncEnumerable<T> StreamUnshared<TArguments>(
        TArguments arguments,
        Func<TArguments, CancellationToken, IAsyncEnumerable<T>> core,
        Func<TArguments, Exception, CancellationToken, IAsyncEnumerable<T>>? fallback,
        CancellationToken cancellationToken)
    {
        // Placeholder until the runtime branch lands: a fresh key per enumeration keeps each upstream unshared.
        ArgumentNullException.ThrowIfNull(core);
        return new GuardedStream<T>(() => Join(Guid.NewGuid().ToString("N"), arguments, core, fallback), cancellationToken);
    }

    // The runtime calls this on a reload; a stream's settings are the method's constants, so nothing changes.
    void IGuardedMethodState.Reconfigure()
    {
    }

    private SharedStream<T> Join<TArguments>(
        string key,
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
                    return running;
                }

                _streams.TryRemove(new KeyValuePair<string, SharedStream<T>>(key, running));
                continue;
            }

            var started = new SharedStream<T>(_streams, key);
            started.TryJoin();
            if (_streams.TryAdd(key, started))
            {
                started.Start(this, arguments, core, fallback);
                return started;
            }
        }
    }
}
