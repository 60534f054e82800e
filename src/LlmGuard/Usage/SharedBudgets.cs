using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Distribution;
using Microsoft.Extensions.Logging;

namespace LlmGuard.Usage;

/// <summary>
/// This instance's view of the budgets' shared totals: the last total the <see cref="IDistributedBudgets"/> hook
/// returned per budget and partition, kept up to date in the background so that admission never waits for it.
/// </summary>
/// <remarks>
/// Each partition has at most one exchange with the hook in flight, an add or a read: tokens counted meanwhile are
/// summed and sent by the next add, so a slow or unreachable store costs a number per partition, never a queue, and the
/// answers arrive in the order the exchanges were made, so the last one stored is the freshest.
/// </remarks>
#pragma warning disable CA1001 // The stopping token source is disposed by StopAsync, which disposing the runtime calls.
internal sealed class SharedBudgets
#pragma warning restore CA1001
{
    private readonly ConcurrentDictionary<(string Budget, string Partition), View> _views = new();
    private readonly IDistributedBudgets _hook;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly long _refreshTicks;
    private readonly CancellationTokenSource _stopping = new();

    // Logged at most once a minute: an unreachable store fails every exchange.
    private readonly ThrottledCount _failures = new(TimeSpan.FromMinutes(1));
    private int _stopped;

    public SharedBudgets(IDistributedBudgets hook, TimeProvider clock, ILogger logger)
    {
        _hook = hook;
        _clock = clock;
        _logger = logger;

        // Read once: a hook that changes its interval later changes nothing here.
        _refreshTicks = Math.Max(0, hook.RefreshInterval.Ticks);
    }

    /// <summary>Gets how many exchanges with the hook failed (threw or were cancelled) since the runtime started.</summary>
    public long FailureCount => _failures.Total;

    /// <summary>Gets the number of partitions with a shared view in memory.</summary>
    public int PartitionCount => _views.Count;

    /// <summary>
    /// Returns the last shared total seen for the partition (0 when none was seen yet), first starting a read in the
    /// background when the view is older than the refresh interval.
    /// </summary>
    public long Seen((string Budget, string Partition) key, DateTimeOffset now)
    {
        View view = ViewOf(key, now);
        long nextRefresh = Interlocked.Read(ref view.NextRefreshTicks);
        if (now.UtcTicks >= nextRefresh
            && Interlocked.CompareExchange(ref view.NextRefreshTicks, now.UtcTicks + _refreshTicks, nextRefresh) == nextRefresh
            && view.Request(tokens: 0, read: true))
        {
            Start(view);
        }

        return view.Total;
    }

    /// <summary>
    /// Counts the tokens of a completed execution into the partition's view at once, and sends them to the hook in the
    /// background.
    /// </summary>
    public void Add((string Budget, string Partition) key, TimeSpan period, long tokens, DateTimeOffset now)
    {
        View view = ViewOf(key, now);
        view.Period = period;

        // Until the hook answers, this instance's own tokens are the best knowledge of the new total.
        view.AddSeen(tokens);
        if (view.Request(tokens, read: false))
        {
            Start(view);
        }
    }

    /// <summary>Drops the views of partitions no execution touched for a whole period, and those of removed budgets.</summary>
    public void Sweep(LlmGuardOptions options, DateTimeOffset now)
    {
        foreach (KeyValuePair<(string Budget, string Partition), View> entry in _views)
        {
            if (!options.Budgets.TryGetValue(entry.Key.Budget, out LlmTokenBudget? budget)
                || now.UtcTicks - Interlocked.Read(ref entry.Value.LastUsedTicks) >= budget.Period.Ticks)
            {
                _views.TryRemove(entry);
            }
        }
    }

    /// <summary>Cancels the exchanges still in flight; later counts and reads no longer reach the hook.</summary>
    public async ValueTask StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }

    private View ViewOf((string Budget, string Partition) key, DateTimeOffset now)
    {
        View view = _views.GetOrAdd(key, static key => new View(key.Budget, key.Partition));
        Interlocked.Exchange(ref view.LastUsedTicks, now.UtcTicks);
        return view;
    }

    // On the thread pool and without the caller's execution context: the hook never runs on a caller's path, and its
    // work carries no caller's activity, call context or logging scope.
    private void Start(View view)
    {
        // A disposed runtime's last executions still count locally; the hook may be disposed with it.
        if (Volatile.Read(ref _stopped) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Owner.ExchangeAsync(state.View), (Owner: this, View: view), preferLocal: false);
        }
    }

    // One loop per partition at a time, one exchange at a time: an add when tokens wait (its answer is a fresh total
    // too), else a read when one was asked for.
    private async Task ExchangeAsync(View view)
    {
        while (view.TakeNext(out long tokens))
        {
            try
            {
                if (tokens > 0)
                {
                    view.Store(await _hook.AddAsync(view.Budget, view.Partition, view.Period, tokens, Stopping).ConfigureAwait(false));

                    // The answer is as fresh as a read: the next read can wait a whole interval from now.
                    Interlocked.Exchange(ref view.NextRefreshTicks, _clock.GetUtcNow().UtcTicks + _refreshTicks);
                }
                else
                {
                    view.Store(await _hook.ReadAsync(view.Budget, view.Partition, Stopping).ConfigureAwait(false));
                }
            }
#pragma warning disable CA1031 // The hook is the application's code: whatever it throws, local counting goes on.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                // Tokens are not sent again: an add that timed out may have counted them already, and counting twice
                // would refuse executions the budget allows. This instance's own count keeps them.
                CountFailure(exception);
            }
        }
    }

    // Disposed by StopAsync: exchanges that start after it run with a cancelled token.
    private CancellationToken Stopping
    {
        get
        {
            try
            {
                return _stopping.Token;
            }
            catch (ObjectDisposedException)
            {
                return new CancellationToken(canceled: true);
            }
        }
    }

    private void CountFailure(Exception exception)
    {
        if (_failures.Increment(_clock, out long sinceLogged, out long total))
        {
            try
            {
                UsageLog.SharedBudgetsUnavailable(_logger, exception, sinceLogged, total);
            }
#pragma warning disable CA1031 // A logging provider that throws must not fault the background exchange.
            catch
#pragma warning restore CA1031
            {
            }
        }
    }

    /// <summary>The shared total of one partition of one budget, as last seen.</summary>
    private sealed class View
    {
        // The tokens counted and not sent yet, whether a read was asked for, and whether an exchange loop runs, in one
        // word: taking the last request and ending the loop is one step, so a request can never find the loop running
        // and be left behind as it ends.
        private const long RunningFlag = 1L << 62;
        private const long ReadFlag = 1L << 61;
        private const long TokensMask = ReadFlag - 1;
        private long _pending;
        private long _total;

        // Fields, so that Interlocked works on them.
        public long NextRefreshTicks;
        public long LastUsedTicks;

        public View(string budget, string partition)
        {
            Budget = budget;
            Partition = partition;
        }

        public string Budget { get; }

        public string Partition { get; }

        /// <summary>Gets or sets the period the budget had when tokens were last counted; sent with every add.</summary>
        public TimeSpan Period { get; set; }

        public long Total => Interlocked.Read(ref _total);

        public void AddSeen(long tokens) => Interlocked.Add(ref _total, tokens);

        public void Store(long total) => Interlocked.Exchange(ref _total, total);

        /// <summary>Asks for tokens to be added or the total to be read; returns whether the caller must start the loop.</summary>
        public bool Request(long tokens, bool read)
        {
            long seen = Interlocked.Read(ref _pending);
            while (true)
            {
                long next = (seen + tokens) | RunningFlag | (read ? ReadFlag : 0);
                long found = Interlocked.CompareExchange(ref _pending, next, seen);
                if (found == seen)
                {
                    return (seen & RunningFlag) == 0;
                }

                seen = found;
            }
        }

        /// <summary>
        /// Takes the next exchange: the tokens to add, or 0 for a read. With nothing asked for, ends the loop and
        /// returns <see langword="false"/>.
        /// </summary>
        public bool TakeNext(out long tokens)
        {
            long seen = Interlocked.Read(ref _pending);
            while (true)
            {
                tokens = seen & TokensMask;

                // An add's answer is the total a read would return, so it answers a pending read too.
                bool any = tokens > 0 || (seen & ReadFlag) != 0;
                long found = Interlocked.CompareExchange(ref _pending, any ? RunningFlag : 0, seen);
                if (found == seen)
                {
                    return any;
                }

                seen = found;
            }
        }
    }
}
