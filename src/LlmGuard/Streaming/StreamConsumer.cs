using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Caching;
using LlmGuard.Execution;

namespace LlmGuard.Streaming;

/// <summary>
/// What <c>Stream</c> returns: each enumeration is one consumer, which on its first <c>MoveNextAsync</c> (so nothing
/// runs before the caller reads) is answered from the cache or joins the shared stream of its key, and leaves it when
/// it ends, fails, is cancelled or is disposed.
/// </summary>
internal sealed class GuardedStream<T> : IAsyncEnumerable<T>
{
    public GuardedStream(StreamPolicy<T> policy, string? cacheKey, Func<(SharedStream<T> Stream, bool Started)> join, CancellationToken callToken)
    {
        Policy = policy;
        CacheKey = cacheKey;
        Join = join;
        CallToken = callToken;
    }

    /// <summary>Gets the policy when the call was made: its cache answers the consumer before it joins a stream.</summary>
    public StreamPolicy<T> Policy { get; }

    /// <summary>Gets where a completed stream of the call's key is stored; <see langword="null"/> when the method caches nothing.</summary>
    public string? CacheKey { get; }

    /// <summary>Joins the stream of the call's key, or starts it; says which.</summary>
    public Func<(SharedStream<T> Stream, bool Started)> Join { get; }

    public CancellationToken CallToken { get; }

    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        new StreamConsumer<T>(this, cancellationToken);
}

/// <summary>One consumer of a shared stream: it reads the replay buffer from the first item, at its own pace.</summary>
internal sealed class StreamConsumer<T> : IAsyncEnumerator<T>
{
    private readonly GuardedStream<T> _call;
    private readonly CancellationToken _callToken;
    private readonly CancellationToken _enumerationToken;

    // Only when both tokens can fire; a cancellation is still reported with the caller's own token.
    private readonly CancellationTokenSource? _either;
    private SharedStream<T>? _stream;
    private T[]? _cached;
    private bool _arrived;
    private int _index;
    private bool _left;

    public StreamConsumer(GuardedStream<T> call, CancellationToken enumerationToken)
    {
        _call = call;
        _callToken = call.CallToken;
        _enumerationToken = enumerationToken;
        if (_callToken.CanBeCanceled && enumerationToken.CanBeCanceled && _callToken != enumerationToken)
        {
            _either = CancellationTokenSource.CreateLinkedTokenSource(_callToken, enumerationToken);
        }
    }

    public T Current { get; private set; } = default!;

    private CancellationToken WaitToken => _either?.Token ?? (_callToken.CanBeCanceled ? _callToken : _enumerationToken);

    public async ValueTask<bool> MoveNextAsync()
    {
        if (_left)
        {
            return false;
        }

        ThrowIfCancelled();
        if (!_arrived)
        {
            _arrived = true;
            await ArriveAsync().ConfigureAwait(false);
        }

        if (_cached is { } cached)
        {
            if (_index < cached.Length)
            {
                Current = cached[_index++];
                return true;
            }

            Leave();
            return false;
        }

        SharedStream<T> stream = _stream!;
        while (true)
        {
            switch (stream.TryRead(_index, out T item, out Task? wait))
            {
                case SharedStream<T>.Read.Item:
                    _index++;
                    Current = item;
                    return true;
                case SharedStream<T>.Read.End:
                    Leave();
                    stream.ThrowIfFailed();
                    return false;
                case SharedStream<T>.Read.Overflow:
                    Leave();
                    throw new LlmStreamOverflowException(_index, stream.Bound);
                default:
                    await WaitAsync(wait!).ConfigureAwait(false);
                    break;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        Leave();
        _either?.Dispose();
        return default;
    }

    // A stored whole answer needs no upstream; otherwise the consumer joins its key's stream, or starts it.
    private async ValueTask ArriveAsync()
    {
        if (_call.CacheKey is { } cacheKey && _call.Policy.Cache is { } cache)
        {
            ValueTask<CachedAnswer<T[]>?> lookup = cache.FindAsync(cacheKey, WaitToken);
            CachedAnswer<T[]>? hit;
            try
            {
                hit = lookup.IsCompletedSuccessfully ? lookup.Result : await lookup.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                ThrowIfCancelled();
                throw;
            }

            if (hit?.Value is { } whole)
            {
                _cached = whole;
                return;
            }
        }

        (_stream, _) = _call.Join();
    }

    private async ValueTask WaitAsync(Task wait)
    {
        try
        {
            await wait.WaitAsync(WaitToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            ThrowIfCancelled();
            throw;
        }
    }

    private void ThrowIfCancelled()
    {
        CancellationToken cancelled = _callToken.IsCancellationRequested ? _callToken
            : _enumerationToken.IsCancellationRequested ? _enumerationToken
            : CancellationToken.None;
        if (cancelled.IsCancellationRequested)
        {
            // A consumer that stops leaves at once: waiting for DisposeAsync would keep the upstream running for nobody.
            Leave();
            throw new OperationCanceledException(cancelled);
        }
    }

    private void Leave()
    {
        if (!_left)
        {
            _left = true;
            _stream?.Leave();
        }
    }
}
