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
    public GuardedStream(
        Func<StreamPolicy<T>> currentPolicy,
        string? key,
        Func<StreamPolicy<T>, string?, (SharedStream<T> Stream, bool Started)> join,
        CancellationToken callToken)
    {
        CurrentPolicy = currentPolicy;
        Key = key;
        Join = join;
        CallToken = callToken;
    }

    /// <summary>Gets the method's policy now; a consumer reads it once, when it arrives, and keeps it.</summary>
    public Func<StreamPolicy<T>> CurrentPolicy { get; }

    /// <summary>Gets the call's key; <see langword="null"/> for an unshared stream, which no cache answers.</summary>
    public string? Key { get; }

    /// <summary>Joins the stream of the call's key under the consumer's policy and cache key, or starts it; says which.</summary>
    public Func<StreamPolicy<T>, string?, (SharedStream<T> Stream, bool Started)> Join { get; }

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
    private StreamPolicy<T> _policy = null!;
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
        return default;
    }

    // A stored whole answer needs no upstream; otherwise the consumer joins its key's stream, or starts it. One policy
    // serves the whole call, even when a reload replaces it while the consumer waits for the cache.
    private async ValueTask ArriveAsync()
    {
        StreamPolicy<T> policy = _policy = _call.CurrentPolicy();
        string? cacheKey = _call.Key is { } key ? policy.Cache?.KeyFor(key) : null;
        _observed = policy.Telemetry.ObservesCalls;
        if (_observed)
        {
            _arrival = CallObserver.Arrival.Now(policy.Scene, policy.Runtime.TimeProvider);
        }

        if (cacheKey is not null && policy.Cache is { } cache)
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

        (_stream, bool started) = _call.Join(policy, cacheKey);
        _outcome = started ? CallOutcomes.Executed : CallOutcomes.Joined;
    }

    private void Deliver(T item)
    {
        if (_index == 0 && _observed)
        {
            StreamPolicy<T> policy = _policy;
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
        try
        {
            _stream?.Leave();
            if (_observed)
            {
                Report(result);
            }
        }
        finally
        {
            // Its registrations on the caller's tokens go now, not when the caller gets round to disposing.
            _either?.Dispose();
        }
    }

    private void Report(string result)
    {
        StreamPolicy<T> policy = _policy;
        long tokensSaved = 0;
        System.Diagnostics.ActivityContext origin = default;
        if (_cached is { } cached)
        {
            tokensSaved = cached.Tokens;
            origin = cached.Origin;
        }
        else if (_stream?.Report is { } report)
        {
            // Only a joined consumer that read the stream to its end saved the upstream's tokens; one that left earlier or
            // overflowed did not get the answer, and reports none.
            if (_outcome == CallOutcomes.Joined && _stream.HasEndedAt(_index))
            {
                (long input, long output, _) = report.ReadUsage();
                tokensSaved = input + output;
            }

            origin = report.ActivityContext;
        }

        CallObserver.ReportConsumer(policy.Telemetry, policy.Runtime.TimeProvider, _arrival, _outcome, result, tokensSaved, origin);
    }
}
