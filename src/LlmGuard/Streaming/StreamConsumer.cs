using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Caching;
using LlmGuard.Execution;
using LlmGuard.Protection;
using LlmGuard.Telemetry;

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
    private CachedAnswer<T[]>? _cached;
    private bool _arrived;
    private int _index;
    private bool _left;

    // Decided on the first read, as a call's observation is decided on arrival.
    private bool _observed;
    private CallObserver.Arrival _arrival;
    private string _outcome = CallOutcomes.Executed;

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

    public ValueTask<bool> MoveNextAsync()
    {
        // Most reads find their item already buffered: answered without an async state machine, and without a wait
        // when the item came. Everything else (the first read, the cache, cancellation, the end) takes the slow path.
        if (_stream is { } stream && !_left && !_callToken.IsCancellationRequested && !_enumerationToken.IsCancellationRequested)
        {
            switch (stream.TryRead(_index, out T item, out Task? wait))
            {
                case SharedStream<T>.Read.Item:
                    Deliver(item);
                    return new ValueTask<bool>(true);
                case SharedStream<T>.Read.Wait:
                    return WaitThenReadAsync(stream, wait!);
            }
        }

        return MoveNextSlowAsync();
    }

    // Pooled: a consumer that keeps up with the upstream waits for every item, and would otherwise allocate a box for
    // each of those waits.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitThenReadAsync(SharedStream<T> stream, Task wait)
    {
        await WaitAsync(wait).ConfigureAwait(false);
        return await ReadAsync(stream).ConfigureAwait(false);
    }

    private async ValueTask<bool> MoveNextSlowAsync()
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
            if (_index < cached.Value.Length)
            {
                Deliver(cached.Value[_index]);
                return true;
            }

            Leave(CallResults.Success);
            return false;
        }

        return await ReadAsync(_stream!).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ReadAsync(SharedStream<T> stream)
    {
        while (true)
        {
            switch (stream.TryRead(_index, out T item, out Task? wait))
            {
                case SharedStream<T>.Read.Item:
                    Deliver(item);
                    return true;
                case SharedStream<T>.Read.End:
                    try
                    {
                        stream.ThrowIfFailed();
                    }
                    catch (Exception failure)
                    {
                        Leave(ResultOf(failure, stream.Report));
                        throw;
                    }

                    // A fallback's answer is still an answer: only the execution knows it was one.
                    Leave(stream.Report?.Result is CallResults.Fallback or CallResults.Rejected ? stream.Report.Result : CallResults.Success);
                    return false;
                case SharedStream<T>.Read.Overflow:
                    Leave(CallResults.Error);
                    throw new LlmStreamOverflowException(_index, stream.Bound);
                default:
                    await WaitAsync(wait!).ConfigureAwait(false);
                    break;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        // A consumer that stops reading before the end left its answer, as a caller whose token ended its wait.
        Leave(CallResults.Cancelled);
        _either?.Dispose();
        return default;
    }

    // A stored whole answer needs no upstream; otherwise the consumer joins its key's stream, or starts it.
    private async ValueTask ArriveAsync()
    {
        StreamPolicy<T> policy = _call.Policy;
        _observed = policy.Telemetry.ObservesCalls;
        if (_observed)
        {
            _arrival = CallObserver.Arrival.Now(policy.Scene, policy.Runtime.TimeProvider);
        }

        if (_call.CacheKey is { } cacheKey && policy.Cache is { } cache)
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

            if (hit?.Value is not null)
            {
                _cached = hit;
                _outcome = CallOutcomes.Cached;
                return;
            }
        }

        (_stream, bool started) = _call.Join();
        _outcome = started ? CallOutcomes.Executed : CallOutcomes.Joined;
    }

    private void Deliver(T item)
    {
        if (_index == 0 && _observed)
        {
            StreamPolicy<T> policy = _call.Policy;
            policy.Telemetry.RecordFirstItem(policy.Scene, _outcome, policy.Runtime.TimeProvider.GetElapsedTime(_arrival.StartedAt));
        }

        _index++;
        Current = item;
    }

    // The upstream decides: a refusal that came out of its core (another guarded method refused) is its error.
    private static string ResultOf(Exception failure, ExecutionReport? report) =>
        failure is LlmCallRejectedException && (report is null || report.Result == CallResults.Rejected) ? CallResults.Rejected : CallResults.Error;

    // Pooled like the read paths that call it: it suspends once for every item a keeping-up consumer waits for.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
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
            Leave(CallResults.Cancelled);
            throw new OperationCanceledException(cancelled);
        }
    }

    private void Leave(string result)
    {
        if (_left)
        {
            return;
        }

        _left = true;
        _stream?.Leave();
        if (_observed)
        {
            Report(result);
        }
    }

    private void Report(string result)
    {
        StreamPolicy<T> policy = _call.Policy;
        long tokensSaved = 0;
        System.Diagnostics.ActivityContext origin = default;
        if (_cached is { } cached)
        {
            tokensSaved = cached.Tokens;
            origin = cached.Origin;
        }
        else if (_stream?.Report is { } report)
        {
            // Read once the stream ended; a consumer that left earlier saved nothing and reports no tokens.
            if (_outcome == CallOutcomes.Joined)
            {
                (long input, long output, _) = report.ReadUsage();
                tokensSaved = input + output;
            }

            origin = report.ActivityContext;
        }

        CallObserver.ReportConsumer(policy.Telemetry, policy.Runtime.TimeProvider, _arrival, _outcome, result, tokensSaved, origin);
    }
}
