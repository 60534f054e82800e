using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Execution;

namespace LlmGuard.Infrastructure;

/// <summary>
/// Shares one execution among the concurrent calls that have the same key.
/// </summary>
/// <remarks>
/// <para>A call for a key that has an execution in flight waits for it instead of starting another. The entry is
/// removed when the execution completes, before any waiter resumes, so a call made after completion starts a new
/// execution; failures are never cached.</para>
/// <para>A caller's token ends only that caller's wait. The execution's own token is cancelled when every caller
/// waiting for it has cancelled; a call that arrives after that starts a new execution instead of joining a dying one.</para>
/// </remarks>
/// <typeparam name="TResult">The result of an execution.</typeparam>
public sealed class SingleFlight<TResult>
{
    private readonly ConcurrentDictionary<string, Flight> _flights = new(StringComparer.Ordinal);

    /// <summary>Gets the number of executions in flight.</summary>
    public int Count => _flights.Count;

    /// <summary>
    /// Waits for the execution in flight for <paramref name="key"/>, or starts one with <paramref name="execute"/>.
    /// </summary>
    /// <typeparam name="TState">The arguments <paramref name="execute"/> needs; passed to it, never captured.</typeparam>
    /// <param name="key">The key: calls with equal keys share an execution.</param>
    /// <param name="state">The arguments of this call, used only when it starts the execution.</param>
    /// <param name="execute">Runs the execution; receives the execution's token, cancelled when every waiter has cancelled.</param>
    /// <param name="cancellationToken">Ends this caller's wait only.</param>
    /// <returns>The execution's outcome, or a cancellation carrying <paramref name="cancellationToken"/>.</returns>
    public Task<TResult> RunAsync<TState>(string key, TState state, Func<TState, CancellationToken, ValueTask<TResult>> execute, CancellationToken cancellationToken) =>
        RunAsync(key, state, execute, cancellationToken, out _, out _);

    /// <summary>
    /// Waits for the execution in flight for <paramref name="key"/>, or starts one, and says which: what an observed
    /// caller needs to report how it got its answer.
    /// </summary>
    /// <typeparam name="TState">The arguments <paramref name="execute"/> needs.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="state">This call's arguments.</param>
    /// <param name="execute">Runs the execution.</param>
    /// <param name="cancellationToken">Ends this caller's wait only.</param>
    /// <param name="execution">The execution the caller waits for; <see langword="null"/> when it ended before joining one.</param>
    /// <param name="started">Whether this caller started the execution.</param>
    internal Task<TResult> RunAsync<TState>(
        string key,
        TState state,
        Func<TState, CancellationToken, ValueTask<TResult>> execute,
        CancellationToken cancellationToken,
        out IExecutingFlight? execution,
        out bool started)
    {
        execution = null;
        started = false;
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(execute);
        if (CallerWait.EndsBeforeJoining<TResult>(this, key, cancellationToken) is { } ended)
        {
            return ended;
        }

        while (true)
        {
            if (_flights.TryGetValue(key, out Flight? inFlight))
            {
                if (inFlight.TryJoin())
                {
                    execution = inFlight;
                    return inFlight.WaitAsync(cancellationToken);
                }

                // Every caller of that flight has left and its execution is being cancelled: replace it.
                _flights.TryRemove(new KeyValuePair<string, Flight>(key, inFlight));
                continue;
            }

            var flight = new Flight(this, key, cancellable: cancellationToken.CanBeCanceled);
            if (_flights.TryAdd(key, flight))
            {
                execution = flight;
                started = true;
                _ = flight.StartAsync(execute, state);
                return flight.WaitAsync(cancellationToken);
            }
        }
    }

    private void Remove(Flight flight) => _flights.TryRemove(new KeyValuePair<string, Flight>(flight.Key, flight));

    /// <summary>One execution and the callers waiting for it.</summary>
    private sealed class Flight : TaskCompletionSource<TResult>, IExecutingFlight, IJoinable
    {
        private const int Abandoned = -1;

        private readonly SingleFlight<TResult> _owner;

        // Only a caller that can cancel can make the waiter count reach zero, so only then is a source needed.
        private readonly CancellationTokenSource? _execution;
        private IExecutingFlight? _parent;
        private volatile bool _running;
        private int _waiters = 1;

        public Flight(SingleFlight<TResult> owner, string key, bool cancellable)
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
            _owner = owner;
            Key = key;
            _execution = cancellable ? new CancellationTokenSource() : null;
        }

        public string Key { get; }

        // Written by the execution before it completes this source, read by its callers after they resume.
        public ExecutionReport? Report { get; set; }

        public bool WasTakenOver => false;

        IExecutingFlight? IExecutingFlight.Parent => _parent;

        object IExecutingFlight.Owner => _owner;

        bool IExecutingFlight.IsRunning => _running;

        // Abandoned (-1) means nobody waits any more.
        int IExecutingFlight.Callers => Math.Max(Volatile.Read(ref _waiters), 0);

        public bool TryJoin()
        {
            int waiters = Volatile.Read(ref _waiters);
            while (waiters > 0)
            {
                int seen = Interlocked.CompareExchange(ref _waiters, waiters + 1, waiters);
                if (seen == waiters)
                {
                    return true;
                }

                waiters = seen;
            }

            return false;
        }

        public void Leave()
        {
            int waiters = Volatile.Read(ref _waiters);
            while (waiters > 0)
            {
                int next = waiters == 1 ? Abandoned : waiters - 1;
                int seen = Interlocked.CompareExchange(ref _waiters, next, waiters);
                if (seen == waiters)
                {
                    if (next == Abandoned)
                    {
                        _owner.Remove(this);
                        _execution?.Cancel();
                    }

                    return;
                }

                waiters = seen;
            }
        }

        // Never faults: every outcome goes to the waiters through this completion source.
        public async Task StartAsync<TState>(Func<TState, CancellationToken, ValueTask<TResult>> execute, TState state)
        {
            // Set inside this async method, so the caller's flow is restored when it first yields.
            _running = true;
            _parent = ExecutingFlights.Enter(this);

            CancellationToken token = _execution?.Token ?? CancellationToken.None;
            TResult result = default!;
            Exception? failure = null;
            try
            {
                result = await execute(state, token).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                failure = exception;
            }

            // Background work the execution started keeps this flight in its flow; from here on it is no recursion.
            _running = false;
            _owner.Remove(this);
            if (failure is OperationCanceledException && token.IsCancellationRequested)
            {
                TrySetCanceled(token);
            }
            else if (failure is not null)
            {
                TrySetException(failure);
            }
            else
            {
                TrySetResult(result);
            }
        }

        public Task<TResult> WaitAsync(CancellationToken cancellationToken) => CallerWait.WaitAsync(Task, this, cancellationToken);
    }
}
