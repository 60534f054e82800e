using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Streaming;

/// <summary>
/// One attempt's enumeration of the upstream, with a deadline for each item on the runtime's clock: when the
/// deadline passes the attempt's token is cancelled, and the cancellation it causes surfaces as a <see cref="TimeoutException"/>.
/// </summary>
/// <typeparam name="T">The items of the stream.</typeparam>
internal sealed class UpstreamReader<T> : IAsyncDisposable
{
    private readonly CancellationTokenSource _attempt;
    private readonly ITimer _timer;
    private IAsyncEnumerator<T>? _enumerator;
    private volatile bool _timedOut;

    private UpstreamReader(TimeProvider timeProvider, CancellationToken upstream)
    {
        _attempt = CancellationTokenSource.CreateLinkedTokenSource(upstream);
        _timer = timeProvider.CreateTimer(static state => ((UpstreamReader<T>)state!).OnDeadline(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Gets whether the attempt produced a first item; when not, the upstream ended empty.</summary>
    public bool HasFirst { get; private set; }

    public T Current => _enumerator!.Current;

    /// <summary>Starts one attempt and waits for its first item.</summary>
    public static async ValueTask<UpstreamReader<T>> OpenAsync(
        Func<CancellationToken, IAsyncEnumerable<T>> open,
        TimeSpan firstItemTimeout,
        TimeProvider timeProvider,
        CancellationToken upstream)
    {
        var reader = new UpstreamReader<T>(timeProvider, upstream);
        try
        {
            CancellationToken token = reader._attempt.Token;
            reader._enumerator = open(token).GetAsyncEnumerator(token);
            reader.HasFirst = await reader.MoveNextAsync(firstItemTimeout, upstream).ConfigureAwait(false);
            return reader;
        }
        catch
        {
            await reader.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits for the next item for at most <paramref name="timeout"/>; <see cref="TimeSpan.Zero"/> waits without a deadline.</summary>
    public async ValueTask<bool> MoveNextAsync(TimeSpan timeout, CancellationToken upstream)
    {
        bool deadline = timeout > TimeSpan.Zero;
        if (deadline)
        {
            _timer.Change(timeout, Timeout.InfiniteTimeSpan);
        }

        try
        {
            return await _enumerator!.MoveNextAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException cancelled) when (_timedOut && !upstream.IsCancellationRequested)
        {
            // A timeout is transient to the failure rules, so a first item that never came is retried.
            throw StreamDeadline.Passed(timeout, cancelled);
        }
        finally
        {
            if (deadline)
            {
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _timer.Dispose();
        try
        {
            if (_enumerator is not null)
            {
                await _enumerator.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _attempt.Dispose();
        }
    }

    private void OnDeadline()
    {
        _timedOut = true;
        try
        {
            _attempt.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The attempt ended while the deadline fired: nothing is left to stop.
        }
    }
}
