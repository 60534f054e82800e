using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Execution;

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
/// <para>The execution runs in the ambient context (<see cref="ExecutionContext"/>, so every
/// <see cref="AsyncLocal{T}"/>) of the latest call, whose arguments it uses.</para>
/// <para>With supersede, a chain of windows that each cancel the previous execution is capped: a window does not
/// supersede an execution whose oldest caller has waited <see cref="SupersedeCap"/> or longer, so that execution
/// runs to its end and answers every caller of the chain.</para>
/// </remarks>
/// <typeparam name="TResult">The result of an execution.</typeparam>
public sealed class MergeWindow<TResult>
{
    /// <summary>
    /// With <see cref="MergeMode.Fixed"/>, how many window lengths the oldest caller of a supersede chain waits at
    /// most before no new window may supersede the execution that will answer it.
    /// </summary>
    internal const int FixedSupersedeWindows = 5;

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
    /// <param name="maxWaitMs">
    /// With <see cref="MergeMode.Sliding"/>, the longest a window stays open after its first call, and the
    /// <see cref="SupersedeCap"/>; 0 otherwise.
    /// </param>
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
        SupersedeCap = _sliding ? _maxWait : _length * FixedSupersedeWindows;
    }

    /// <summary>Gets the number of windows that are open or whose execution is running.</summary>
    public int Count => _open.Count + Volatile.Read(ref _running);

    /// <summary>
    /// Gets how long the oldest caller of a supersede chain may have waited for a window to still supersede the
    /// execution that would answer it: the sliding window's longest wait, or five window lengths for a fixed window.
    /// </summary>
    public TimeSpan SupersedeCap { get; }

    /// <summary>Joins the open window for <paramref name="key"/>, or opens one.</summary>
    /// <typeparam name="TState">The arguments of a call; passed to <paramref name="execute"/>, never captured.</typeparam>
    /// <param name="key">The key: calls with equal keys merge.</param>
    /// <param name="state">This call's arguments.</param>
    /// <param name="merge">
    /// Combines the arguments of every merged call (earlier first, the calls of superseded windows before the
    /// window's own) into the arguments of the execution; called once per execution, at the close. For parameters
    /// that collect every merged value; <see langword="null"/> when the latest call's arguments simply replace
    /// earlier ones.
    /// </param>
    /// <param name="execute">Runs the execution with the merged arguments; receives a token cancelled when every caller has left.</param>
    /// <param name="cancellationToken">Ends this caller's wait only.</param>
    /// <returns>The outcome of the execution this call ends up in, or a cancellation carrying <paramref name="cancellationToken"/>.</returns>
    public Task<TResult> JoinAsync<TState>(
        string key,
        TState state,
        Func<IReadOnlyList<TState>, TState>? merge,
        Func<TState, CancellationToken, ValueTask<TResult>> execute,
        CancellationToken cancellationToken) =>
        JoinAsync(key, state, merge, execute, cancellationToken, out _, out _);

    /// <summary>
    /// Joins the open window for <paramref name="key"/>, or opens one, and says which: what an observed caller needs
    /// to report how it got its answer.
    /// </summary>
    /// <typeparam name="TState">The arguments <paramref name="execute"/> needs.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="state">This call's arguments.</param>
    /// <param name="merge">Combines the arguments of every merged call.</param>
    /// <param name="execute">Runs the execution.</param>
    /// <param name="cancellationToken">Ends this caller's wait only.</param>
    /// <param name="window">The window the caller joined; <see langword="null"/> when it ended before joining one.</param>
    /// <param name="opened">Whether this caller opened the window.</param>
    internal Task<TResult> JoinAsync<TState>(
        string key,
        TState state,
        Func<IReadOnlyList<TState>, TState>? merge,
        Func<TState, CancellationToken, ValueTask<TResult>> execute,
        CancellationToken cancellationToken,
        out IExecutingFlight? window,
        out bool opened)
    {
        window = null;
        opened = false;
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(execute);
        if (CallerWait.EndsBeforeJoining<TResult>(this, key, cancellationToken) is { } ended)
        {
            return ended;
        }

        // The execution runs in the context of the call whose arguments it uses; unchanged, this does not allocate.
        ExecutionContext? context = ExecutionContext.Capture();
        while (true)
        {
            if (_open.TryGetValue(key, out Window? open))
            {
                if (((Window<TState>)open).TryJoin(state, context))
                {
                    window = open;
                    return open.WaitAsync(cancellationToken);
                }

                // Closed since it was looked up: the next window is this call's to open.
                _open.TryRemove(new KeyValuePair<string, Window>(key, open));
                continue;
            }

            var opening = new Window<TState>(this, key, state, context, merge, execute);
            if (!_open.TryAdd(key, opening))
            {
                continue;
            }

            // Before the window's timer starts, so the window is still open when it takes the callers over.
            if (_supersede && _executing.TryGetValue(key, out Window? running))
            {
                ((Window<TState>)running).TrySupersedeBy(opening);
            }

            window = opening;
            opened = true;
            opening.Open();
            return opening.WaitAsync(cancellationToken);
        }
    }

    private abstract class Window : TaskCompletionSource<TResult>, IJoinable, IExecutingFlight
    {
        private volatile bool _running;

        protected Window(MergeWindow<TResult> owner, string key)
            : base(TaskCreationOptions.RunContinuationsAsynchronously)
        {
            Owner = owner;
            Key = key;
        }

        public MergeWindow<TResult> Owner { get; }

        public string Key { get; }

        public IExecutingFlight? Parent { get; private set; }

        public bool IsRunning => _running;

        object IExecutingFlight.Owner => Owner;

        public abstract ExecutionReport? Report { get; set; }

        public abstract bool WasTakenOver { get; }
        public abstract int Callers { get; }

        public abstract void Leave();

        public Task<TResult> WaitAsync(CancellationToken cancellationToken) => CallerWait.WaitAsync(Task, this, cancellationToken);

        // Called first inside the execution's async method, so the flow it changes is the execution's own.
        protected void EnterExecution()
        {
            _running = true;
            Parent = ExecutingFlights.Enter(this);
        }

        // Background work the execution started keeps the marker; once the run has ended it is no recursion.
        protected void EndExecution() => _running = false;
    }

    [SuppressMessage("Design", "CA1001", Justification = "The execution's source has no timer or wait handle to release, and disposing it would race with a caller leaving late.")]
    private sealed class Window<TState> : Window
    {
        private static readonly ContextCallback s_runInContext = static window => ((Window<TState>)window!).StartRun();

        private readonly object _gate = new();
        private readonly Func<IReadOnlyList<TState>, TState>? _merge;
        private readonly Func<TState, CancellationToken, ValueTask<TResult>> _execute;
        private readonly long _openedAt;

        // Without a merge function only the latest call's arguments matter; with one, every call's, in arrival order.
        private TState _latest;
        private readonly List<TState>? _calls;
        private ExecutionContext? _context;
        private Phase _phase = Phase.Open;
        private int _waiters = 1;
        private long _chainStartedAt;

        // The position in a supersede chain: one more than the window this one took over.
        private int _chainIndex;
        private ITimer? _timer;
        private CancellationTokenSource? _execution;
        private Window<TState>? _supersededBy;
        private ExecutionReport? _report;

        // Every window this one took over, directly or through a chain, flat, so completing them never recurses.
        private List<Window<TState>>? _takenOver;

        public Window(
            MergeWindow<TResult> owner,
            string key,
            TState state,
            ExecutionContext? context,
            Func<IReadOnlyList<TState>, TState>? merge,
            Func<TState, CancellationToken, ValueTask<TResult>> execute)
            : base(owner, key)
        {
            _latest = state;
            _context = context;
            _merge = merge;
            _execute = execute;
            if (merge is not null)
            {
                _calls = new List<TState> { state };
            }

            _openedAt = owner._timeProvider.GetTimestamp();
            _chainStartedAt = _openedAt;
        }

        // A superseded window's callers were answered by the window that took them over: its report is theirs. The
        // walk ends: supersede links only point further along a chain, whose length the supersede cap bounds.
        public override ExecutionReport? Report
        {
            get
            {
                Window<TState> window = this;
                while (true)
                {
                    lock (window._gate)
                    {
                        if (window._supersededBy is null)
                        {
                            return window._report;
                        }

                        window = window._supersededBy;
                    }
                }
            }

            set
            {
                lock (_gate)
                {
                    _report = value;
                }
            }
        }

        public override bool WasTakenOver
        {
            get
            {
                lock (_gate)
                {
                    return _supersededBy is not null;
                }
            }
        }

        private enum Phase
        {
            Open,
            Executing,
            Done,
        }

        // A superseded window's callers moved to the window that took it over, so it counts none.
        public override int Callers
        {
            get
            {
                lock (_gate)
                {
                    return _waiters;
                }
            }
        }

        public void Open()
        {
            lock (_gate)
            {
                if (_phase != Phase.Open)
                {
                    return;
                }

                _timer = Owner._timeProvider.CreateTimer(static window => ((Window<TState>)window!).Close(), this, Owner._length, Timeout.InfiniteTimeSpan);
            }
        }

        public bool TryJoin(TState state, ExecutionContext? context)
        {
            lock (_gate)
            {
                if (_phase != Phase.Open)
                {
                    return false;
                }

                _waiters++;
                _latest = state;
                _context = context;
                _calls?.Add(state);
                if (Owner._sliding && _timer is not null)
                {
                    TimeSpan remaining = Owner._maxWait - Owner._timeProvider.GetElapsedTime(_openedAt);
                    _timer.Change(remaining < Owner._length ? (remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero) : Owner._length, Timeout.InfiniteTimeSpan);
                }

                return true;
            }
        }

        /// <summary>
        /// Moves this running execution's callers, merged calls and taken-over windows into <paramref name="next"/>
        /// and cancels it; does nothing when this execution has ended, <paramref name="next"/> is no longer open, or
        /// this execution's oldest caller has waited the supersede cap.
        /// </summary>
        public void TrySupersedeBy(Window<TState> next)
        {
            CancellationTokenSource? execution;

            // Both locks, older window first (nothing takes them in the other order): a caller of this window that
            // leaves meanwhile is counted either here or in next, never lost between them.
            lock (_gate)
            {
                if (_phase != Phase.Executing || _supersededBy is not null
                    || Owner._timeProvider.GetElapsedTime(_chainStartedAt) >= Owner.SupersedeCap)
                {
                    return;
                }

                lock (next._gate)
                {
                    if (next._phase != Phase.Open)
                    {
                        return;
                    }

                    next._waiters += _waiters;
                    next._chainStartedAt = _chainStartedAt;
                    next._chainIndex = _chainIndex + 1;
                    next._calls?.InsertRange(0, _calls!);
                    next._takenOver = _takenOver ?? new List<Window<TState>>();
                    next._takenOver.Add(this);
                    _takenOver = null;
                    _waiters = 0;
                    _supersededBy = next;
                }

                execution = _execution;
            }

            execution?.Cancel();
        }

        public override void Leave()
        {
            // A superseded window forwards the leave along the chain, in a loop: chains can be long.
            Window<TState> window = this;
            while (window.LeaveOrForward() is { } forward)
            {
                window = forward;
            }

            // The callers moved to the window that counted this leave: later leaves of the windows passed on the way
            // go straight there, so a long chain is walked once, not once per leave. Links only ever point further
            // along the chain (a concurrent leave may have pointed one past this window already), so none loops.
            Window<TState> passed = this;
            while (passed._chainIndex < window._chainIndex)
            {
                Window<TState> next;
                lock (passed._gate)
                {
                    next = passed._supersededBy!;
                    if (next._chainIndex < window._chainIndex)
                    {
                        passed._supersededBy = window;
                    }
                }

                passed = next;
            }
        }

        private Window<TState>? LeaveOrForward()
        {
            CancellationTokenSource? cancel = null;
            bool abandonedOpen = false;
            lock (_gate)
            {
                if (_supersededBy is { } forward)
                {
                    return forward;
                }

                if (_waiters > 0 && --_waiters == 0)
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

            if (abandonedOpen)
            {
                // Nobody is waiting any more: the execution never runs.
                Owner._open.TryRemove(new KeyValuePair<string, Window>(Key, this));
                Complete(default!, null, CancellationToken.None);
            }
            else
            {
                cancel?.Cancel();
            }

            return null;
        }

        private void Close()
        {
            ExecutionContext? context;
            lock (_gate)
            {
                if (_phase != Phase.Open)
                {
                    return;
                }

                _phase = Phase.Executing;
                _timer?.Dispose();
                _execution = new CancellationTokenSource();
                context = _context;

                // Published with the phase, so a call that finds this window closed and opens the next one also
                // finds this execution to supersede.
                Owner._executing[Key] = this;
            }

            Interlocked.Increment(ref Owner._running);
            Owner._open.TryRemove(new KeyValuePair<string, Window>(Key, this));

            // The timer's callback runs in the context of whoever started it; the execution belongs to the latest call.
            if (context is null)
            {
                StartRun();
            }
            else
            {
                ExecutionContext.Run(context, s_runInContext, this);
            }
        }

        private void StartRun() => _ = RunAsync();

        // Never faults: every outcome goes to the callers through the completion sources. The phase is Executing, so
        // no call joins any more and the arguments read here are final.
        private async Task RunAsync()
        {
            // Set inside this async method, so the flow it runs in is restored when it first yields.
            EnterExecution();

            CancellationToken token = _execution!.Token;
            TResult result = default!;
            Exception? failure = null;
            try
            {
                TState state = _merge is null ? _latest : _merge(_calls!);
                result = await _execute(state, token).ConfigureAwait(false);
            }
            catch (Exception exception)
            {
                failure = exception;
            }

            EndExecution();
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

            Complete(result, failure, failure is OperationCanceledException && token.IsCancellationRequested ? token : null);
        }

        // A window that took over earlier windows answers their callers too.
        private void Complete(TResult result, Exception? failure, CancellationToken? cancelled)
        {
            List<Window<TState>>? takenOver;
            lock (_gate)
            {
                takenOver = _takenOver;
            }

            Set(this, result, failure, cancelled);
            if (takenOver is not null)
            {
                foreach (Window<TState> previous in takenOver)
                {
                    Set(previous, result, failure, cancelled);
                }
            }
        }

        private static void Set(Window<TState> window, TResult result, Exception? failure, CancellationToken? cancelled)
        {
            if (cancelled is { } token)
            {
                window.TrySetCanceled(token);
            }
            else if (failure is not null)
            {
                window.TrySetException(failure);
            }
            else
            {
                window.TrySetResult(result);
            }
        }
    }
}
