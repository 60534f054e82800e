using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Infrastructure;

/// <summary>
/// Merges the calls for one key that arrive within a window into one execution with the latest arguments.
/// </summary>
/// <remarks>
/// <para>The first call for a key opens a window, measured on the runtime's clock. Calls for the key while it is open
/// join it and their arguments replace earlier ones (or are appended, for parameters marked
/// <see cref="MergeAppendAttribute"/>). When it closes the execution runs once with the merged arguments and every
/// caller that joined gets its outcome. A call after the close, also while the execution runs, opens a new window,
/// so no caller ever receives a result computed from arguments older than its own.</para>
/// <para>A caller's token ends only that caller's wait. When every caller has left before the close the execution
/// never runs; when every caller has left during the execution its token is cancelled.</para>
/// </remarks>
/// <typeparam name="TResult">The result of an execution.</typeparam>
public sealed class MergeWindow<TResult>
{
    private readonly ConcurrentDictionary<string, Window> _open = new(StringComparer.Ordinal);
    // The latest execution per key, for supersede; several may run for one key, so they are counted apart.
    private readonly ConcurrentDictionary<string, Window> _executing = new(StringComparer.Ordinal);
    private int _running;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _length;
    private readonly TimeSpan _maxWait;
    private readonly bool _sliding;
    private readonly bool _supersede;

    /// <summary>Creates the merge windows of one guarded method on one runtime.</summary>
    /// <param name="timeProvider">The clock windows are measured on.</param>
    /// <param name="windowMs">How long a window stays open, in milliseconds; with <see cref="MergeMode.Sliding"/>, the quiet time that closes it.</param>
    /// <param name="mode">Whether each call restarts the window.</param>
    /// <param name="maxWaitMs">With <see cref="MergeMode.Sliding"/>, the longest a window stays open after its first call.</param>
    /// <param name="supersede">Whether a new window cancels the previous window's running execution and takes over its callers.</param>
    public MergeWindow(TimeProvider timeProvider, int windowMs, MergeMode mode, int maxWaitMs, bool supersede)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(windowMs);
        _timeProvider = timeProvider;
        _length = TimeSpan.FromMilliseconds(windowMs);
        _sliding = mode == MergeMode.Sliding;
        if (_sliding)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(maxWaitMs, windowMs);
        }

        _maxWait = TimeSpan.FromMilliseconds(maxWaitMs);
        _supersede = supersede;
    }

    /// <summary>Gets the number of windows that are open or whose execution is running.</summary>
    public int Count => _open.Count + Volatile.Read(ref _running);

    /// <summary>Joins the open window for <paramref name="key"/>, or opens one.</summary>
    /// <typeparam name="TState">The arguments of a call; passed to <paramref name="execute"/>, never captured.</typeparam>
    /// <param name="key">The key: calls with equal keys merge.</param>
    /// <param name="state">This call's arguments.</param>
    /// <param name="append">
    /// Combines the window's arguments so far with a later call's (earlier first), for parameters that collect every
    /// merged value; <see langword="null"/> when the latest call's arguments simply replace earlier ones.
    /// </param>
    /// <param name="execute">Runs the execution with the merged arguments; receives a token cancelled when every caller has left.</param>
    /// <param name="cancellationToken">Ends this caller's wait only.</param>
    /// <returns>The outcome of the execution this call ends up in, or a cancellation carrying <paramref name="cancellationToken"/>.</returns>
    public Task<TResult> JoinAsync<TState>(
        string key,
        TState state,
        Func<TState, TState, TState>? append,
        Func<TState, CancellationToken, ValueTask<TResult>> execute,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(execute);
        if (CallerWait.EndsBeforeJoining<TResult>(this, key, cancellationToken) is { } ended)
        {
            return ended;
        }

        while (true)
        {
            if (_open.TryGetValue(key, out Window? open))
            {
                if (((Window<TState>)open).TryJoin(state))
                {
                    return open.WaitAsync(cancellationToken);
                }

                // Closed since it was looked up: the next window is this call's to open.
                _open.TryRemove(new KeyValuePair<string, Window>(key, open));
                continue;
            }

            var window = new Window<TState>(this, key, state, append, execute);
            if (!_open.TryAdd(key, window))
            {
                continue;
            }

            if (_supersede && _executing.TryGetValue(key, out Window? running))
            {
                ((Window<TState>)running).SupersedeBy(window);
            }

            window.Open();
            return window.WaitAsync(cancellationToken);
        }
    }

    private abstract class Window : TaskCompletionSource<TResult>, IJoinable, IExecutingFlight
    {
        protected Window(MergeWindow<TResult> owner, string key)
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
            Owner = owner;
            Key = key;
        }

        public MergeWindow<TResult> Owner { get; }

        public string Key { get; }

        public IExecutingFlight? Parent { get; protected set; }

        object IExecutingFlight.Owner => Owner;

        public abstract void Leave();

        public Task<TResult> WaitAsync(CancellationToken cancellationToken) => CallerWait.WaitAsync(Task, this, cancellationToken);
    }

    [SuppressMessage("Design", "CA1001", Justification = "The execution's source has no timer or wait handle to release, and disposing it would race with a caller leaving late.")]
    private sealed class Window<TState> : Window
    {
        private readonly object _gate = new();
        private readonly Func<TState, TState, TState>? _append;
        private readonly Func<TState, CancellationToken, ValueTask<TResult>> _execute;
        private TState _state;
        private Phase _phase = Phase.Open;
        private int _waiters = 1;
        private long _openedAt;
        private ITimer? _timer;
        private CancellationTokenSource? _execution;
        private Window<TState>? _supersededBy;
        private List<Window<TState>>? _takenOver;

        public Window(MergeWindow<TResult> owner, string key, TState state, Func<TState, TState, TState>? append, Func<TState, CancellationToken, ValueTask<TResult>> execute)
            : base(owner, key)
        {
            _state = state;
            _append = append;
            _execute = execute;
        }

        private enum Phase
        {
            Open,
            Executing,
            Done,
        }

        public void Open()
        {
            lock (_gate)
            {
                if (_phase != Phase.Open)
                {
                    return;
                }

                _openedAt = Owner._timeProvider.GetTimestamp();
                _timer = Owner._timeProvider.CreateTimer(static window => ((Window<TState>)window!).Close(), this, Owner._length, Timeout.InfiniteTimeSpan);
            }
        }

        public bool TryJoin(TState state)
        {
            lock (_gate)
            {
                if (_phase != Phase.Open)
                {
                    return false;
                }

                _waiters++;
                _state = _append is null ? state : _append(_state, state);
                if (Owner._sliding && _timer is not null)
                {
                    TimeSpan remaining = Owner._maxWait - Owner._timeProvider.GetElapsedTime(_openedAt);
                    _timer.Change(remaining < Owner._length ? (remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero) : Owner._length, Timeout.InfiniteTimeSpan);
                }

                return true;
            }
        }

        /// <summary>Moves this running execution's callers, and its merged arguments, into <paramref name="next"/>, then cancels it.</summary>
        public void SupersedeBy(Window<TState> next)
        {
            int moved;
            TState state;
            CancellationTokenSource? execution;
            lock (_gate)
            {
                if (_phase != Phase.Executing || _supersededBy is not null)
                {
                    return;
                }

                _supersededBy = next;
                moved = _waiters;
                _waiters = 0;
                state = _state;
                execution = _execution;
            }

            next.TakeOver(this, moved, state);
            execution?.Cancel();
        }

        public override void Leave()
        {
            Window<TState>? forward;
            CancellationTokenSource? cancel = null;
            bool abandonedOpen = false;
            lock (_gate)
            {
                forward = _supersededBy;
                if (forward is null && _waiters > 0 && --_waiters == 0)
                {
                    if (_phase == Phase.Open)
                    {
                        _phase = Phase.Done;
                        _timer?.Dispose();
                        abandonedOpen = true;
                    }
                    else if (_phase == Phase.Executing)
                    {
                        cancel = _execution;
                    }
                }
            }

            if (forward is not null)
            {
                forward.Leave();
            }
            else if (abandonedOpen)
            {
                // Nobody is waiting any more: the execution never runs.
                Owner._open.TryRemove(new KeyValuePair<string, Window>(Key, this));
                CompleteCanceled(CancellationToken.None);
            }
            else
            {
                cancel?.Cancel();
            }
        }

        private void TakeOver(Window<TState> previous, int waiters, TState previousState)
        {
            lock (_gate)
            {
                _waiters += waiters;
                if (_append is not null)
                {
                    _state = _append(previousState, _state);
                }

                (_takenOver ??= new()).Add(previous);
            }
        }

        private void Close()
        {
            TState state;
            CancellationToken token;
            lock (_gate)
            {
                if (_phase != Phase.Open)
                {
                    return;
                }

                _phase = Phase.Executing;
                _timer?.Dispose();
                _execution = new CancellationTokenSource();
                token = _execution.Token;
                state = _state;
            }

            Interlocked.Increment(ref Owner._running);
            Owner._open.TryRemove(new KeyValuePair<string, Window>(Key, this));
            Owner._executing[Key] = this;
            _ = RunAsync(state, token);
        }

        // Never faults: every outcome goes to the callers through the completion sources.
        private async Task RunAsync(TState state, CancellationToken token)
        {
            // Set inside this async method, so the timer's flow is restored when it first yields.
            Parent = ExecutingFlights.Enter(this);

            TResult result = default!;
            Exception? failure = null;
            try
            {
                result = await _execute(state, token).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                failure = exception;
            }

            bool superseded;
            lock (_gate)
            {
                _phase = Phase.Done;
                superseded = _supersededBy is not null;
            }

            Owner._executing.TryRemove(new KeyValuePair<string, Window>(Key, this));
            Interlocked.Decrement(ref Owner._running);
            if (superseded)
            {
                return;
            }

            if (failure is OperationCanceledException && token.IsCancellationRequested)
            {
                CompleteCanceled(token);
            }
            else if (failure is not null)
            {
                CompleteFaulted(failure);
            }
            else
            {
                CompleteWithResult(result);
            }
        }

        // A window that took over earlier windows answers their callers too.
        private void CompleteWithResult(TResult result)
        {
            TrySetResult(result);
            TakenOver()?.ForEach(previous => previous.CompleteWithResult(result));
        }

        private void CompleteFaulted(Exception failure)
        {
            TrySetException(failure);
            TakenOver()?.ForEach(previous => previous.CompleteFaulted(failure));
        }

        private void CompleteCanceled(CancellationToken token)
        {
            TrySetCanceled(token);
            TakenOver()?.ForEach(previous => previous.CompleteCanceled(token));
        }

        private List<Window<TState>>? TakenOver()
        {
            lock (_gate)
            {
                return _takenOver;
            }
        }
    }
}
