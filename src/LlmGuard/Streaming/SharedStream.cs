using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Execution;
using LlmGuard.Failures;
using LlmGuard.Protection;
using LlmGuard.Telemetry;
using LlmGuard.Usage;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Polly;

namespace LlmGuard.Streaming;

/// <summary>
/// One upstream enumeration shared by every consumer of a key: the upstream is pumped once into a replay buffer, and
/// each consumer reads the buffer from the first item at its own pace. The upstream is cancelled when its last
/// consumer leaves; the stream is unlisted then, or when the upstream ends, so later callers start a new one.
/// </summary>
/// <remarks>
/// The buffer keeps the last <see cref="StreamPolicy{T}.ReplayItems"/> items and never more: the upstream is never
/// slowed down by its slowest consumer. Once it drops its first item the stream takes no new consumer (one would miss
/// the start of the answer) and is unlisted, and a consumer whose next item was dropped gets a
/// <see cref="LlmStreamOverflowException"/>. Consumers read without a lock, so no slot is ever reused: the items sit
/// in windows of the bound's size, and besides the current window the stream holds only the one before it.
/// </remarks>
/// <typeparam name="T">The items of the stream.</typeparam>
internal sealed class SharedStream<T> : IDisposable
{
    // The first window's length: grown by doubling up to the bound, so a short answer never allocates the whole bound.
    private const int InitialBuffer = 16;

    private readonly object _gate = new();
    private readonly CancellationTokenSource _upstream = new();
    private readonly StreamPolicy<T> _policy;
    private readonly int _bound;
    private readonly ConcurrentDictionary<string, SharedStream<T>>? _listing;
    private readonly string? _key;
    private readonly string? _cacheKey;
    private readonly StreamPumps? _pumps;
    private TaskCompletionSource _next = NewSignal();

    // Consumers read items without the lock, so a slot is written once and never overwritten: a slot reused for a newer
    // item could be read half-written (a large struct) or as the wrong item. The items are published by _count, written
    // with Volatile.Write after the item and after any new window (release), and read with Volatile.Read before the
    // window and the item (acquire), so a reader that sees a count sees every item below it.
    private Window _window;
    private int _count;

    // 1 from when a consumer found no item under the lock until the next Append swaps the signal: without a waiter an
    // item completes no signal and allocates none.
    private int _waiting;
    private int _consumers;

    // Every consumer that ever joined: the callers the execution answered.
    private int _joined;
    private ExecutionReport? _report;
    private bool _ended;

    // No consumer may join any more: the upstream ended, dropped an item, or every consumer left and it was cancelled.
    private bool _closed;

    // The last consumer's Cancel runs outside the lock; whichever of it and the upstream's end comes second disposes.
    private bool _cancelling;
    private bool _cancelled;
    private ExceptionDispatchInfo? _failure;

    /// <summary>Creates a stream that runs under <paramref name="policy"/> to its end.</summary>
    /// <param name="policy">The policy the upstream starts under.</param>
    /// <param name="listing">Where the stream is listed under <paramref name="key"/>; <see langword="null"/> for a stream of one consumer.</param>
    /// <param name="key">Its key in <paramref name="listing"/>.</param>
    /// <param name="cacheKey">Where a completed stream is stored whole; <see langword="null"/> when the policy caches nothing.</param>
    /// <param name="pumps">Counts the upstream from its start to its end, listed or not.</param>
    public SharedStream(StreamPolicy<T> policy, ConcurrentDictionary<string, SharedStream<T>>? listing, string? key, string? cacheKey = null, StreamPumps? pumps = null)
    {
        _pumps = pumps;
        _cacheKey = cacheKey;
        _policy = policy;
        _bound = policy.ReplayItems;
        _window = new Window(0, new T[Math.Min(_bound, InitialBuffer)], null);
        _listing = listing;
        _key = key;
    }

    internal enum Read
    {
        Item,
        Wait,
        End,
        Overflow,
    }

    /// <summary>Gets how many items the stream keeps; a consumer further behind overflows.</summary>
    public int Bound => _bound;

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
            _joined++;
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
            cancel = _consumers == 0 && !_ended && !_cancelling;
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
        try
        {
            _upstream.Cancel();
        }
        catch (AggregateException)
        {
            // A callback the core registered on its token threw. Every callback ran and the upstream is cancelled all
            // the same; the consumer leaving (often from DisposeAsync) has no use for the core's failure to stop.
        }
        finally
        {
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
    }

    public void Dispose() => _upstream.Dispose();

    /// <summary>Says whether a consumer whose next item is <paramref name="index"/> has read the whole stream.</summary>
    public bool HasEndedAt(int index)
    {
        lock (_gate)
        {
            return _ended && index >= _count;
        }
    }

    /// <summary>
    /// Reads item <paramref name="index"/>, or says what to wait for when it has not arrived, or that it was dropped.
    /// </summary>
    public Read TryRead(int index, out T item, out Task? wait)
    {
        wait = null;
        int count = Volatile.Read(ref _count);
        if (index < count)
        {
            return ReadPublished(index, count, out item);
        }

        lock (_gate)
        {
            // Announced before the count is read again, and with a full fence (Interlocked), pairing with the fence in
            // Append between publishing the count and reading this flag: either this read sees the new item or that
            // Append sees the waiter and completes the signal taken below. Without both fences each side could read the
            // other's old value and the consumer would wait for an item that already came.
            Interlocked.Exchange(ref _waiting, 1);
            count = Volatile.Read(ref _count);
            if (index < count)
            {
                return ReadPublished(index, count, out item);
            }

            item = default!;
            if (_ended)
            {
                return Read.End;
            }

            wait = _next.Task;
            return Read.Wait;
        }
    }

    // Reads item index of the count items published; the window read after the count holds it unless the item was
    // dropped since, and then index is more than the bound behind the newer count too.
    private Read ReadPublished(int index, int count, out T item)
    {
        if (count - index > _bound)
        {
            item = default!;
            return Read.Overflow;
        }

        Window window = Volatile.Read(ref _window);
        int offset = index - window.Start;
        if (offset >= 0)
        {
            item = window.Items[offset];
            return Read.Item;
        }

        if (window.Previous is { } previous && offset + _bound >= 0)
        {
            item = previous[offset + _bound];
            return Read.Item;
        }

        item = default!;
        return Read.Overflow;
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
            count = Volatile.Read(ref _count);
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
        TArguments arguments,
        Func<TArguments, CancellationToken, IAsyncEnumerable<T>> core,
        Func<TArguments, Exception, CancellationToken, IAsyncEnumerable<T>>? fallback)
    {
        _pumps?.Started();
        _ = Task.Run(() => PumpAsync(arguments, core, fallback));
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    // The execution of one upstream, reported as a guarded call's execution is when something needs it: a budget may
    // refuse it before any attempt; its activity, log scope, events and metrics; its tokens, from ChatResponseUpdate
    // items or the core's LlmUsage.Report calls; the report consumers read when it ends, and the usage ledger.
    private async Task PumpAsync<TArguments>(
        TArguments arguments,
        Func<TArguments, CancellationToken, IAsyncEnumerable<T>> core,
        Func<TArguments, Exception, CancellationToken, IAsyncEnumerable<T>>? fallback)
    {
        Exception? failure = null;
        Activity? activity = null;
        try
        {
            StreamPolicy<T> policy = _policy;
            GuardRuntime runtime = policy.Runtime;
            GuardTelemetry telemetry = policy.Telemetry;
            ILogger? logger = telemetry.Logger;
            TimeProvider clock = runtime.TimeProvider;
            CancellationToken token = _upstream.Token;

            // The flow of the consumer that started the upstream, as Task.Run carried it.
            LlmCallContext? context = LlmCallContext.Current;
            ExecutionReport? report = null;
            ExecutionObservation? observation = null;
            if (telemetry.ObservesExecutions || _cacheKey is not null)
            {
                report = new ExecutionReport(policy.Scene, context);
                observation = new ExecutionObservation(telemetry, report, _key);
                activity = GuardTelemetry.StartExecution(policy.ExecutionActivityName, policy.Scene);
                report.ActivityContext = activity?.Context ?? default;
                Volatile.Write(ref _report, report);
                if (runtime.Usage.IsActive || telemetry.RecordsTokens || _cacheKey is not null)
                {
                    // Set inside this async method, so only the upstream's attempts and the fallback see it.
                    LlmUsage.Current = report;
                }
            }

            using IDisposable? scope = context is null ? null : logger?.BeginScope(new CallContextLogState(context));
            long startedAt = clock.GetTimestamp();
            string result = CallResults.Success;
            bool fellBack = false;
            try
            {
                try
                {
                    if (report is not null && runtime.Usage.TryAdmit(policy.Scene, context) is { } refusal)
                    {
                        // The core never runs: the fallback answers, as after failed attempts, or the consumers get the refusal.
                        throw refusal;
                    }

                    var run = new Run<TArguments>(this, arguments, core, observation);
                    _ = policy.Protection is { } protection
                        ? await protection.ExecuteAsync(static (run, failedAttempt, runToken) => run.Stream.RunAsync(run, failedAttempt, runToken), run, token).ConfigureAwait(false)
                        : await RunAsync(run, failedAttempt: null, token).ConfigureAwait(false);
                }
                catch (Exception attemptsFailure) when (fallback is not null && !token.IsCancellationRequested && Count == 0)
                {
                    // Every attempt failed before a first item, or the upstream was refused: no consumer holds part of an
                    // answer yet, so the fallback's stream can be the whole of it. A refusal answers with the fallback too,
                    // but the consumers were rejected, not failed over.
                    fellBack = true;
                    bool refused = IsRefusal(attemptsFailure, observation);
                    result = refused ? CallResults.Rejected : CallResults.Fallback;
                    RecordRejection(telemetry, policy.Scene, attemptsFailure, observation);
                    if (logger is not null && !(refused && attemptsFailure is LlmCircuitOpenException or LlmLimitExceededException))
                    {
                        GuardLog.FallbackUsed(logger, policy.Scene, observation?.KeyHash, attemptsFailure);
                    }

                    UpstreamReader<T> reader = await UpstreamReader<T>.OpenAsync(
                        ct => fallback(arguments, attemptsFailure, ct), policy.FirstItemTimeout, policy.IdleTimeout, clock, token).ConfigureAwait(false);
                    await DrainAsync(reader, report, token).ConfigureAwait(false);
                    telemetry.RecordFallback(policy.Scene, policy.Method.FallbackScene);
                }

                // A fallback's answer is never stored: the next caller should get the model's.
                if (result == CallResults.Success && _cacheKey is not null && policy.Cache is { } cache && !token.IsCancellationRequested && TryCopyWhole() is { } whole)
                {
                    // Stored before the consumers learn the end, so a caller that arrives after one of them finished finds it.
                    (long input, long output, _) = report!.ReadUsage();
                    await cache.StoreAsync(_cacheKey, whole, input + output, report.ActivityContext).ConfigureAwait(false);
                }
            }
            catch (Exception upstreamFailure)
            {
                failure = AsCancellation(upstreamFailure, token);

                // A fallback that failed after a refusal was counted as a rejection already; its own failure is an error.
                result = failure is OperationCanceledException && token.IsCancellationRequested ? CallResults.Cancelled
                    : !fellBack && IsRefusal(failure, observation) ? CallResults.Rejected
                    : CallResults.Error;
                if (!fellBack)
                {
                    RecordRejection(telemetry, policy.Scene, failure, observation);
                }

                if (logger is not null && result == CallResults.Error)
                {
                    GuardLog.ExecutionFailed(logger, policy.Scene, observation?.KeyHash, failure);
                }
            }

            if (report is not null)
            {
                report.Result = result;
                report.Duration = clock.GetElapsedTime(startedAt);
                report.CompletedAt = clock.GetUtcNow();
                report.Callers = Close();
                telemetry.RecordExecution(report, activity);
                runtime.Usage.Complete(report);
            }
        }
        catch (Exception unexpected)
        {
            // A logger scope, a telemetry listener or the usage ledger threw: the consumers must still learn the end,
            // or those without a token wait forever and the key stays listed for every later caller to join.
            failure ??= unexpected;
        }
        finally
        {
            try
            {
                activity?.Dispose();
            }
            finally
            {
                End(failure);
            }
        }
    }

    // An SDK whose stream the cancellation aborted may report it as a failure of its own (an IOException): once every
    // consumer left, whatever the upstream threw is that cancellation, not an error of the model.
    private static Exception AsCancellation(Exception exception, CancellationToken token) =>
        exception is OperationCanceledException || !token.IsCancellationRequested
            ? exception
            : new OperationCanceledException("Every consumer of the stream left.", exception, token);

    /// <summary>
    /// Gets the report of the upstream's execution, complete once the stream ended; <see langword="null"/> when nothing
    /// observed it.
    /// </summary>
    public ExecutionReport? Report => Volatile.Read(ref _report);

    // Only a refusal of this upstream, raised before its attempts started, is this scene's rejection; one that came out
    // of the core is a failure like any other.
    private static bool IsRefusal(Exception exception, ExecutionObservation? observation) =>
        exception is LlmCallRejectedException && observation is { AttemptsStarted: false };

    private static void RecordRejection(GuardTelemetry telemetry, string scene, Exception exception, ExecutionObservation? observation)
    {
        if (exception is LlmCallRejectedException rejection && IsRefusal(exception, observation))
        {
            telemetry.RecordRejection(scene, rejection);
        }
    }

    // The tokens a Microsoft.Extensions.AI streaming update carries; a chat client reports them in its last update.
    private static void AddUsage(ExecutionReport report, T item)
    {
        if (item is ChatResponseUpdate update)
        {
            foreach (AIContent content in update.Contents)
            {
                if (content is UsageContent usage)
                {
                    report.AddUsage(usage.Details.InputTokenCount, usage.Details.OutputTokenCount, update.ModelId);
                }
            }
        }
    }

    // The whole answer, unless the buffer dropped part of it: a partial stream is never stored, nor an empty one, which
    // is more likely a model that failed quietly than an answer worth repeating.
    private T[]? TryCopyWhole()
    {
        lock (_gate)
        {
            int count = Volatile.Read(ref _count);
            return count == 0 || count > _bound ? null : Volatile.Read(ref _window).Items.AsSpan(0, count).ToArray();
        }
    }

    private int Count
    {
        get
        {
            return Volatile.Read(ref _count);
        }
    }

    // One execution, from the first attempt to the upstream's end: under the scene's protection a permit is held and the
    // breaker counts its outcome, a failure after the first item included.
    private async ValueTask<bool> RunAsync<TArguments>(Run<TArguments> run, StrongBox<bool>? failedAttempt, CancellationToken token)
    {
        try
        {
            await AttemptAndDrainAsync(run, failedAttempt, token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException && token.IsCancellationRequested)
        {
            // Thrown here, inside the breaker, so that it does not count an abandoned stream as the model's failure.
            throw AsCancellation(exception, token);
        }

        return true;
    }

    private async ValueTask AttemptAndDrainAsync<TArguments>(Run<TArguments> run, StrongBox<bool>? failedAttempt, CancellationToken token)
    {
        StreamPolicy<T> policy = _policy;
        ResilienceContext context = ResilienceContextPool.Shared.Get(token);
        if (run.Observation is { } observation)
        {
            observation.AttemptsStarted = true;
            context.Properties.Set(ExecutionObservation.Key, observation);
        }

        if (failedAttempt is not null)
        {
            context.Properties.Set(SceneProtection.FailedAttempt, failedAttempt);
        }

        UpstreamReader<T> reader;
        try
        {
            // Retries apply only here, before the first item: after it consumers hold part of an answer that another
            // attempt would repeat or contradict.
            reader = await policy.Attempts.ExecuteAsync(
                static (attemptContext, flight) => flight.Observation is { } observation && GuardTelemetry.ActivitySource.HasListeners()
                    ? TracedOpenAsync(flight, observation, attemptContext.CancellationToken)
                    : UpstreamReader<T>.OpenAsync(flight.Open, flight.FirstItemTimeout, flight.IdleTimeout, flight.Clock, attemptContext.CancellationToken),
                context,
                new Flight(ct => run.Core(run.Arguments, ct), policy.FirstItemTimeout, policy.IdleTimeout, policy.Runtime.TimeProvider, policy.Scene, run.Observation)).ConfigureAwait(false);
            if (policy.MaxRetries == 0)
            {
                run.Observation?.Telemetry.RecordAttempt(policy.Scene, AttemptResults.Success);
            }

            if (failedAttempt is not null && reader.HasFirst)
            {
                // The model answered: consumers who leave from now on abandon an answer that was coming, which says
                // nothing against the model, however many attempts failed before it.
                failedAttempt.Value = false;
            }
        }
        catch (Exception exception) when (policy.MaxRetries == 0 && run.Observation is not null && !token.IsCancellationRequested)
        {
            // Without retries no retry strategy classified the failure: this is its one classification.
            FailureClassification verdict = FailureInspection.Classify(exception, policy.Runtime.FailureClassifier, policy.Runtime.TimeProvider);
            AttemptTelemetry.Record(run.Observation.Telemetry, policy.Scene, exception, verdict, attemptNumber: 1, context);
            throw;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        await DrainAsync(reader, run.Observation?.Report, token).ConfigureAwait(false);
    }

    // An attempt's activity, a child of the upstream's, lasts until its first item: what follows is the upstream's.
    private static async ValueTask<UpstreamReader<T>> TracedOpenAsync(Flight flight, ExecutionObservation observation, CancellationToken attemptToken)
    {
        // Attempts of one upstream run one after another, so the count needs no interlock.
        using Activity? activity = GuardTelemetry.StartAttempt(flight.Scene, ++observation.Attempts);
        try
        {
            return await UpstreamReader<T>.OpenAsync(flight.Open, flight.FirstItemTimeout, flight.IdleTimeout, flight.Clock, attemptToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            activity?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            throw;
        }
    }

    private async ValueTask DrainAsync(UpstreamReader<T> reader, ExecutionReport? report, CancellationToken token)
    {
        await using (reader.ConfigureAwait(false))
        {
            bool more = reader.HasFirst;
            while (more)
            {
                if (report is not null)
                {
                    AddUsage(report, reader.Current);
                }

                Append(reader.Current);
                more = await reader.MoveNextAsync(token).ConfigureAwait(false);
            }
        }
    }

    // Only the pump appends, one item after another, so _count and _window have one writer.
    private void Append(T item)
    {
        int count = _count;
        Window window = _window;
        int offset = count - window.Start;
        if (offset == window.Items.Length)
        {
            // The first window grows by doubling up to the bound, so a short answer never allocates the whole bound. A
            // full window is followed by a new one that keeps it as Previous and lets go of the window before it, which
            // holds only items more than the bound behind. A new window is published before the count that needs it.
            window = window.Items.Length < _bound
                ? new Window(window.Start, GrowFirst(window.Items), null)
                : new Window(window.Start + _bound, new T[_bound], window.Items);
            offset = count - window.Start;
            Volatile.Write(ref _window, window);
        }

        window.Items[offset] = item;
        bool firstDrop = count == _bound;
        if (firstDrop)
        {
            // This item drops the first: closed before it is published, so a caller that would miss the start of the
            // answer cannot join; the next one starts an upstream of its own.
            lock (_gate)
            {
                _closed = true;
            }
        }

        // Publishes the item (release), and as a full fence orders it before reading _waiting: see TryRead.
        Interlocked.Exchange(ref _count, count + 1);
        if (firstDrop)
        {
            Unlist();
        }

        if (Volatile.Read(ref _waiting) == 0)
        {
            return;
        }

        TaskCompletionSource arrived;
        lock (_gate)
        {
            _waiting = 0;
            arrived = _next;
            _next = NewSignal();
        }

        arrived.TrySetResult();
    }

    // Takes no consumer any more and counts those it answered: read under the lock that admits them, so one that joins
    // while the answer is stored is counted too.
    private int Close()
    {
        lock (_gate)
        {
            _closed = true;
            return _joined;
        }
    }

    private T[] GrowFirst(T[] items)
    {
        var grown = new T[(int)Math.Min((long)items.Length * 2, _bound)];
        items.CopyTo(grown, 0);
        return grown;
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

        // Before the consumers learn the end, so that none of them sees the runtime count a finished upstream in flight.
        _pumps?.Ended();
        ended.TrySetResult();
    }

    // Items Start.. of the stream, and the full window before them, which a reader at most the bound behind may still need.
    private sealed record Window(int Start, T[] Items, T[]? Previous);

    private void Unlist() => _listing?.TryRemove(new KeyValuePair<string, SharedStream<T>>(_key!, this));

    private sealed record Flight(
        Func<CancellationToken, IAsyncEnumerable<T>> Open,
        TimeSpan FirstItemTimeout,
        TimeSpan IdleTimeout,
        TimeProvider Clock,
        string Scene,
        ExecutionObservation? Observation);

    private readonly record struct Run<TArguments>(
        SharedStream<T> Stream,
        TArguments Arguments,
        Func<TArguments, CancellationToken, IAsyncEnumerable<T>> Core,
        ExecutionObservation? Observation);
}
