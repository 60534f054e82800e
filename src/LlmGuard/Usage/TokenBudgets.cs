using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using LlmGuard.Configuration;

namespace LlmGuard.Usage;

/// <summary>
/// The tokens spent in the current period of every budget, per scene, tenant or user: admits or refuses an execution
/// before it runs, and counts it once it has.
/// </summary>
/// <remarks>
/// Periods are fixed windows that start with the first execution counted or admitted for a partition, on the
/// runtime's clock. Expired periods are dropped on a sweep at most once per shortest period, so memory stays bounded by
/// the partitions active within one period. With <see cref="SharedBudgets"/>, a partition is refused once either this
/// instance's count or the last shared total seen reaches the budget.
/// </remarks>
internal sealed class TokenBudgets
{
    private readonly ConcurrentDictionary<(string Budget, string Partition), Counter> _counters = new();
    private readonly TimeProvider _timeProvider;
    private readonly SharedBudgets? _shared;
    private long _nextSweepTicks;

    public TokenBudgets(TimeProvider timeProvider, SharedBudgets? shared = null)
    {
        _timeProvider = timeProvider;
        _shared = shared;
    }

    /// <summary>Gets the number of partitions with a period in memory.</summary>
    public int PartitionCount => _counters.Count;

    /// <summary>Returns the first budget whose current period is spent for this execution, or <see langword="null"/>.</summary>
    public LlmBudgetExceededException? TryAdmit(LlmGuardOptions options, string scene, LlmCallContext? context)
    {
        DateTimeOffset now = _timeProvider.GetUtcNow();
        LlmBudgetExceededException? refusal = null;
        foreach (KeyValuePair<string, LlmTokenBudget> entry in options.Budgets)
        {
            LlmTokenBudget budget = entry.Value;
            if (PartitionOf(budget, scene, context) is not { } partition)
            {
                continue;
            }

            long spent = _counters.TryGetValue((entry.Key, partition), out Counter? counter) ? counter.Current(now, budget.Period).Tokens : 0;
            if (_shared is not null)
            {
                // Never waits: the view is what the shared store last said, refreshed in the background when stale.
                spent = Math.Max(spent, _shared.Seen((entry.Key, partition), now));
            }

            if (spent >= budget.Tokens)
            {
                refusal = new LlmBudgetExceededException(
                    scene,
                    entry.Key,
                    $"The token budget '{entry.Key}' ({budget.Tokens} tokens per {budget.Period} per {budget.Per.ToString().ToLowerInvariant()}) is spent for this period: the execution of scene '{scene}' was rejected without running its core.");
                break;
            }
        }

        // Admissions create shared views even for partitions this instance never counts (it refuses them all), so
        // they sweep too.
        if (_shared is not null)
        {
            SweepExpired(options, now);
        }

        return refusal;
    }

    private static TimeSpan ShortestPeriod(LlmGuardOptions options)
    {
        TimeSpan shortest = TimeSpan.MaxValue;
        foreach (LlmTokenBudget budget in options.Budgets.Values)
        {
            if (budget.Period > TimeSpan.Zero && budget.Period < shortest)
            {
                shortest = budget.Period;
            }
        }

        return shortest;
    }

    /// <summary>Counts the tokens of one completed execution in every budget that applies to it.</summary>
    public void Count(LlmGuardOptions options, string scene, LlmCallContext? context, long tokens)
    {
        DateTimeOffset now = _timeProvider.GetUtcNow();
        foreach (KeyValuePair<string, LlmTokenBudget> entry in options.Budgets)
        {
            LlmTokenBudget budget = entry.Value;
            if (PartitionOf(budget, scene, context) is not { } partition)
            {
                continue;
            }

            AddTokens((entry.Key, partition), budget.Period, now, tokens);
            _shared?.Add((entry.Key, partition), budget.Period, tokens, now);
        }

        SweepExpired(options, now);
    }

    // A sweep may drop a counter that had expired between this thread finding it and adding to it: the tokens would be
    // lost with it. Adding again to the counter that replaced it is rare (at most once per sweep) and keeps them.
    private void AddTokens((string Budget, string Partition) key, TimeSpan period, DateTimeOffset now, long tokens)
    {
        const int MaxTries = 4;
        for (int attempt = 0; attempt < MaxTries; attempt++)
        {
            Counter counter = _counters.GetOrAdd(key, static _ => new Counter());
            Interlocked.Add(ref counter.Current(now, period).Tokens, tokens);
            if (_counters.TryGetValue(key, out Counter? present) && ReferenceEquals(present, counter))
            {
                return;
            }
        }
    }

    private static string? PartitionOf(LlmTokenBudget budget, string scene, LlmCallContext? context)
    {
        // Without a period there is nothing to count tokens over; start-up validation reports such a budget.
        if (budget.Period <= TimeSpan.Zero
            || (budget.Scene is not null && !string.Equals(budget.Scene, scene, StringComparison.Ordinal)))
        {
            return null;
        }

        // A call without the tenant or user a budget is counted by is not limited by that budget.
        return budget.Per switch
        {
            LlmBudgetScope.Tenant => context?.Tenant,
            LlmBudgetScope.User => context?.User,
            _ => scene,
        };
    }

    // At most once per shortest period: the next sweep is due when the shortest period could have expired a counter.
    private void SweepExpired(LlmGuardOptions options, DateTimeOffset now)
    {
        long next = Interlocked.Read(ref _nextSweepTicks);
        if (now.UtcTicks < next)
        {
            return;
        }

        TimeSpan shortest = ShortestPeriod(options);
        if (shortest == TimeSpan.MaxValue
            || Interlocked.CompareExchange(ref _nextSweepTicks, (now + shortest).UtcTicks, next) != next)
        {
            return;
        }

        foreach (KeyValuePair<(string Budget, string Partition), Counter> entry in _counters)
        {
            // A budget removed by a reload has no period any more, so its counters go too.
            bool expired = !options.Budgets.TryGetValue(entry.Key.Budget, out LlmTokenBudget? budget)
                || entry.Value.IsExpired(now, budget.Period);
            if (expired)
            {
                _counters.TryRemove(entry);
            }
        }

        _shared?.Sweep(options, now);
    }

    /// <summary>The tokens of one partition of one budget, in its current period.</summary>
    private sealed class Counter
    {
        private Period? _period;

        public Period Current(DateTimeOffset now, TimeSpan length)
        {
            Period? period = Volatile.Read(ref _period);
            if (period is not null && now - period.StartedAt < length)
            {
                return period;
            }

            // One thread starts the next period; the others use the one it started, which is no older than theirs.
            var next = new Period(now);
            Period? seen = Interlocked.CompareExchange(ref _period, next, period);
            return ReferenceEquals(seen, period) ? next : seen!;
        }

        public bool IsExpired(DateTimeOffset now, TimeSpan length) =>
            Volatile.Read(ref _period) is not { } period || now - period.StartedAt >= length;
    }

    private sealed class Period
    {
        // A field, so that Interlocked adds to it.
        public long Tokens;

        public Period(DateTimeOffset startedAt)
        {
            StartedAt = startedAt;
        }

        public DateTimeOffset StartedAt { get; }
    }
}
