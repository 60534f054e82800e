using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Streaming;

/// <summary>
/// What <c>Stream</c> returns: each enumeration is one consumer, which joins the shared stream of its key on its
/// first <c>MoveNextAsync</c> (so nothing runs before the caller reads) and leaves it when it ends, fails, is
/// cancelled or is disposed.
/// </summary>
internal sealed class GuardedStream<T> : IAsyncEnumerable<T>
{
    private readonly Func<SharedStream<T>> _join;
    private readonly CancellationToken _callToken;

    public GuardedStream(Func<SharedStream<T>> join, CancellationToken callToken)
    {
        _join = join;
        _callToken = callToken;
    }

    public IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default) =>
        new StreamConsumer<T>(_join, _callToken, cancellationToken);
}

/// <summary>One consumer of a shared stream: it reads the replay buffer from the first item, at its own pace.</summary>
internal sealed class StreamConsumer<T> : IAsyncEnumerator<T>
{
    private readonly Func<SharedStream<T>> _join;
    private readonly CancellationToken _callToken;
    private readonly CancellationToken _enumerationToken;

    // Only when both tokens can fire; a cancellation is still reported with the caller's own token.
    private readonly CancellationTokenSource? _either;
    private SharedStream<T>? _stream;
    private int _index;
    private bool _left;

    public StreamConsumer(Func<SharedStream<T>> join, CancellationToken callToken, CancellationToken enumerationToken)
    {
        _join = join;
        _callToken = callToken;
        _enumerationToken = enumerationToken;
        if (callToken.CanBeCanceled && enumerationToken.CanBeCanceled && callToken != enumerationToken)
        {
            _either = CancellationTokenSource.CreateLinkedTokenSource(callToken, enumerationToken);
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
        _stream ??= _join();
        while (true)
        {
            switch (_stream.TryRead(_index, out T item, out Task? wait))
            {
                case SharedStream<T>.Read.Item:
                    _index++;
                    Current = item;
                    return true;
                case SharedStream<T>.Read.End:
                    Leave();
                    _stream.ThrowIfFailed();
                    return false;
                case SharedStream<T>.Read.Overflow:
                    Leave();
                    throw new LlmStreamOverflowException(_index, _stream.Bound);
                default:
                    try
                    {
                        await wait!.WaitAsync(WaitToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        ThrowIfCancelled();
                        throw;
                    }

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
