using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Execution;
using Polly;

namespace LlmGuard.Streaming;

/// <summary>
/// One upstream enumeration shared by every consumer of a key: the upstream is pumped once into a replay buffer, and
/// each consumer reads the buffer from the first item at its own pace. The upstream is cancelled when its last
/// consumer leaves; the stream is unlisted then, or when the upstream ends, so later callers start a new one.
/// </summary>
/// <typeparam name="T">The items of the stream.</typeparam>
internal sealed class SharedStream<T> : IDisposable
{
    private readonly object _gate = new();
    private readonly List<T> _items = new();
    private readonly CancellationTokenSource _upstream = new();
    private readonly ConcurrentDictionary<string, SharedStream<T>> _listing;
    private readonly string _key;
    private TaskCompletionSource _next = NewSignal();
    private int _consumers;
    private bool _ended;

    // No consumer may join any more: the upstream ended, or every consumer left and it was cancelled.
    private bool _closed;

    // The last consumer's Cancel runs outside the lock; whichever of it and the upstream's end comes second disposes.
    private bool _cancelling;
    private bool _cancelled;
    private ExceptionDispatchInfo? _failure;

    public SharedStream(ConcurrentDictionary<string, SharedStream<T>> listing, string key)
    {
        _listing = listing;
        _key = key;
    }

    internal enum Read
    {
        Item,
        Wait,
        End,
    }

    /// <summary>Counts one more consumer, unless the stream is closed to newcomers.</summary>
    public bool TryJoin()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            _consumers++;
            return true;
        }
    }

    /// <summary>Counts one consumer less; the last one to leave a running upstream cancels it.</summary>
    public void Leave()
    {
        bool cancel;
        lock (_gate)
        {
            _consumers--;
            cancel = _consumers == 0 && !_closed;
            if (cancel)
            {
                _closed = true;
                _cancelling = true;
            }
        }

        if (!cancel)
        {
            return;
        }

        Unlist();
        _upstream.Cancel();
        bool ended;
        lock (_gate)
        {
            _cancelled = true;
            ended = _ended;
        }

        if (ended)
        {
            Dispose();
        }
    }

    public void Dispose() => _upstream.Dispose();

    /// <summary>Reads item <paramref name="index"/>, or says what to wait for when it has not arrived.</summary>
    public Read TryRead(int index, out T item, out Task? wait)
    {
        lock (_gate)
        {
            if (index < _items.Count)
            {
                item = _items[index];
                wait = null;
                return Read.Item;
            }

            item = default!;
            if (_ended)
            {
                wait = null;
                return Read.End;
            }

            wait = _next.Task;
            return Read.Wait;
        }
    }

    /// <summary>
    /// Throws how the upstream failed, once a consumer has read every item: the failure itself when no item came,
    /// otherwise a <see cref="LlmStreamInterruptedException"/> of the consumer's own around it.
    /// </summary>
    public void ThrowIfFailed()
    {
        ExceptionDispatchInfo? failure;
        int count;
        lock (_gate)
        {
            failure = _failure;
            count = _items.Count;
        }

        if (failure is null)
        {
            return;
        }

        if (count == 0)
        {
            failure.Throw();
        }

        throw new LlmStreamInterruptedException(count, failure.SourceException);
    }

    /// <summary>Pumps the upstream on the thread pool; the caller has already joined.</summary>
    public void Start<TArguments>(
        StreamPolicy<T> policy,
        TArguments arguments,
        Func<TArguments, CancellationToken, IAsyncEnumerable<T>> core,
        Func<TArguments, Exception, CancellationToken, IAsyncEnumerable<T>>? fallback)
    {
        _ = Task.Run(() => PumpAsync(policy, arguments, core, fallback));
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task PumpAsync<TArguments>(
        StreamPolicy<T> policy,
        TArguments arguments,
        Func<TArguments, CancellationToken, IAsyncEnumerable<T>> core,
        Func<TArguments, Exception, CancellationToken, IAsyncEnumerable<T>>? fallback)
    {
        CancellationToken token = _upstream.Token;
        TimeProvider clock = policy.Runtime.TimeProvider;
        Exception? failure = null;
        try
        {
            UpstreamReader<T> reader;
            try
            {
                // Retries and the fallback apply only here, before the first item: after it consumers hold part of
                // an answer that another attempt would repeat or contradict.
                reader = await policy.Attempts.ExecuteAsync(
                    static (flight, attemptToken) => UpstreamReader<T>.OpenAsync(flight.Open, flight.FirstItemTimeout, flight.Clock, attemptToken),
                    new Flight(ct => core(arguments, ct), policy.FirstItemTimeout, clock),
                    token).ConfigureAwait(false);
            }
            catch (Exception attemptsFailure) when (fallback is not null && !token.IsCancellationRequested)
            {
                reader = await UpstreamReader<T>.OpenAsync(ct => fallback(arguments, attemptsFailure, ct), policy.FirstItemTimeout, clock, token).ConfigureAwait(false);
            }

            await using (reader.ConfigureAwait(false))
            {
                bool more = reader.HasFirst;
                while (more)
                {
                    Append(reader.Current);
                    more = await reader.MoveNextAsync(policy.IdleTimeout, token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception upstreamFailure)
        {
            failure = upstreamFailure;
        }

        End(failure);
    }

    private void Append(T item)
    {
        TaskCompletionSource arrived;
        lock (_gate)
        {
            _items.Add(item);
            arrived = _next;
            _next = NewSignal();
        }

        arrived.TrySetResult();
    }

    private void End(Exception? failure)
    {
        TaskCompletionSource ended;
        bool dispose;
        lock (_gate)
        {
            _ended = true;
            dispose = !_cancelling || _cancelled;
            _closed = true;
            if (failure is not null)
            {
                _failure = ExceptionDispatchInfo.Capture(failure);
            }

            ended = _next;
        }

        Unlist();
        if (dispose)
        {
            Dispose();
        }

        ended.TrySetResult();
    }

    private void Unlist() => _listing.TryRemove(new KeyValuePair<string, SharedStream<T>>(_key, this));

    private sealed record Flight(Func<CancellationToken, IAsyncEnumerable<T>> Open, TimeSpan FirstItemTimeout, TimeProvider Clock);
}
