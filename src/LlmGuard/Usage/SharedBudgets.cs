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
/// Each partition has at most one <see cref="IDistributedBudgets.AddAsync"/> and one
/// <see cref="IDistributedBudgets.ReadAsync"/> in flight: tokens counted while an add is in flight are summed and sent
/// by the next one, so a slow or unreachable store costs a number per partition, never a queue.
/// </remarks>
#pragma warning disable CA1001 // The stopping token source is disposed by StopAsync, which disposing the runtime calls.
internal sealed class SharedBudgets
#pragma warning restore CA1001
{
    // At most one "shared budgets unavailable" log per interval: an unreachable store fails every exchange.
    private static readonly TimeSpan s_failureLogInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<(string Budget, string Partition), View> _views = new();
    private readonly IDistributedBudgets _hook;
    private readonly TimeProvider _clock;
    private readonly ILogger _logger;
    private readonly long _refreshTicks;
    private readonly CancellationTokenSource _stopping = new();
    private int _stopped;
    private long _failures;
    private long _failuresLogged;
    private long _nextFailureLogTimestamp;

    public SharedBudgets(IDistributedBudgets hook, TimeProvider clock, ILogger logger)
    {
        _hook = hook;
        _clock = clock;
        _logger = logger;

        // Read once: a hook that changes its interval later changes nothing here.
        _refreshTicks = Math.Max(0, hook.RefreshInterval.Ticks);
    }

    /// <summary>Gets how many exchanges with the hook failed (threw or were cancelled) since the runtime started.</summary>
    public long FailureCount => Interlocked.Read(ref _failures);

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
            && Interlocked.CompareExchange(ref view.NextRefreshTicks, now.UtcTicks + _refreshTicks, nextRefresh) == nextRefresh)
        {
            Start(static state => _ = state.Owner.RefreshAsync(state.View), view);
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
        if (view.AddUnsent(tokens))
        {
            Start(static state => _ = state.Owner.SendAsync(state.View), view);
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
    private void Start(Action<(SharedBudgets Owner, View View)> work, View view)
    {
        // A disposed runtime's last executions still count locally; the hook may be disposed with it.
        if (Volatile.Read(ref _stopped) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(work, (this, view), preferLocal: false);
        }
    }

    private async Task SendAsync(View view)
    {
        while (view.TakeUnsent() is var tokens and > 0)
        {
            long ticket = view.NextTicket();
            try
            {
                long total = await _hook.AddAsync(view.Budget, view.Partition, view.Period, tokens, Stopping).ConfigureAwait(false);
                view.Store(ticket, total);

                // The answer is as fresh as a read: the next read can wait a whole interval from now.
                Interlocked.Exchange(ref view.NextRefreshTicks, _clock.GetUtcNow().UtcTicks + _refreshTicks);
            }
#pragma warning disable CA1031 // The hook is the application's code: whatever it throws, local counting goes on.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                // Not sent again: a call that timed out may have counted them already, and counting twice would
                // refuse executions the budget allows. This instance's own count keeps them.
                CountFailure(exception);
            }
        }
    }

    private async Task RefreshAsync(View view)
    {
        long ticket = view.NextTicket();
        try
        {
            view.Store(ticket, await _hook.ReadAsync(view.Budget, view.Partition, Stopping).ConfigureAwait(false));
        }
#pragma warning disable CA1031 // As in SendAsync: the view stays as it was and the next interval reads again.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            CountFailure(exception);
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
        long total = Interlocked.Increment(ref _failures);
        long now = _clock.GetTimestamp();
        long next = Interlocked.Read(ref _nextFailureLogTimestamp);
        if (now < next)
        {
            return;
        }

        long interval = (long)(s_failureLogInterval.TotalSeconds * _clock.TimestampFrequency);
        if (Interlocked.CompareExchange(ref _nextFailureLogTimestamp, now + interval, next) == next)
        {
            long previous = Interlocked.Exchange(ref _failuresLogged, total);
            try
            {
                UsageLog.SharedBudgetsUnavailable(_logger, exception, total - previous, total);
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
        private readonly object _gate = new();
        private long _total;
        private long _storedTicket;
        private long _lastTicket;

        // The tokens counted and not sent yet, and whether a send loop runs, in one word: taking the last tokens and
        // ending the loop is one step, so a count can never find the loop running and be left behind as it ends.
        private const long SendingFlag = 1L << 62;
        private long _unsent;

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

        public long NextTicket() => Interlocked.Increment(ref _lastTicket);

        /// <summary>Adds tokens to send; returns whether the caller must start the send loop.</summary>
        public bool AddUnsent(long tokens)
        {
            long seen = Interlocked.Read(ref _unsent);
            while (true)
            {
                long found = Interlocked.CompareExchange(ref _unsent, (seen + tokens) | SendingFlag, seen);
                if (found == seen)
                {
                    return (seen & SendingFlag) == 0;
                }

                seen = found;
            }
        }

        /// <summary>Takes every token not sent yet; when there are none, ends the send loop and returns 0.</summary>
        public long TakeUnsent()
        {
            long seen = Interlocked.Read(ref _unsent);
            while (true)
            {
                long tokens = seen & ~SendingFlag;
                long found = Interlocked.CompareExchange(ref _unsent, tokens == 0 ? 0 : SendingFlag, seen);
                if (found == seen)
                {
                    return tokens;
                }

                seen = found;
            }
        }

        public void AddSeen(long tokens)
        {
            lock (_gate)
            {
                Interlocked.Add(ref _total, tokens);
            }
        }

        // Answers may arrive out of order (a read issued before an add, answered after it); the store answers commands
        // in the order they were issued, so the answer to the latest request is the freshest.
        public void Store(long ticket, long total)
        {
            lock (_gate)
            {
                if (ticket > _storedTicket)
                {
                    _storedTicket = ticket;
                    Interlocked.Exchange(ref _total, total);
                }
            }
        }
    }
}
