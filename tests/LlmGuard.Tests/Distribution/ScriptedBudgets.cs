using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using LlmGuard.Distribution;

namespace LlmGuard.Tests.Distribution;

/// <summary>
/// An in-process <see cref="IDistributedBudgets"/>: one shared count per budget and partition, as the store every
/// instance talks to would hold. A test can add other instances' spending, hold every call (its thread blocks until
/// <see cref="Release"/>), or make every call fail.
/// </summary>
public sealed class ScriptedBudgets : IDistributedBudgets
{
    private readonly ConcurrentDictionary<(string Budget, string Partition), long> _totals = new();
    private readonly ManualResetEventSlim _open = new(initialState: true);
    private readonly Channel<string> _answered = Channel.CreateUnbounded<string>();
    private int _callsStarted;

    public TimeSpan RefreshInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets whether every call throws, as an unreachable store does.</summary>
    public bool Fail { get; set; }

    /// <summary>Gets or sets whether each call yields before it answers, so answers complete on other threads.</summary>
    public bool YieldFirst { get; init; }

    /// <summary>Gets every add, in the order they started.</summary>
    public ConcurrentQueue<(string Budget, string Partition, TimeSpan Period, long Tokens)> Added { get; } = new();

    public int CallsStarted => Volatile.Read(ref _callsStarted);

    /// <summary>Makes every later call block its thread until <see cref="Release"/>.</summary>
    public void Hold() => _open.Reset();

    public void Release() => _open.Set();

    /// <summary>Adds tokens another instance spent.</summary>
    public void SpendElsewhere(string budget, string partition, long tokens) =>
        _totals.AddOrUpdate((budget, partition), tokens, (_, total) => total + tokens);

    public long TotalOf(string budget, string partition) => _totals.TryGetValue((budget, partition), out long total) ? total : 0;

    /// <summary>Waits until a call of <paramref name="kind"/> (<c>add</c>, <c>read</c>, <c>failed</c>) has answered.</summary>
    public async Task AnsweredAsync(string kind)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (await _answered.Reader.ReadAsync(bound.Token) != kind)
        {
        }
    }

    public async ValueTask<long> AddAsync(string budget, string partition, TimeSpan period, long tokens, CancellationToken cancellationToken)
    {
        Added.Enqueue((budget, partition, period, tokens));
        return await AnswerAsync("add", () => _totals.AddOrUpdate((budget, partition), tokens, (_, total) => total + tokens));
    }

    public ValueTask<long> ReadAsync(string budget, string partition, CancellationToken cancellationToken) =>
        AnswerAsync("read", () => TotalOf(budget, partition));

    private async ValueTask<long> AnswerAsync(string kind, Func<long> answer)
    {
        Interlocked.Increment(ref _callsStarted);

        // Synchronously, on the calling thread: a runtime that called the hook on a caller's path would block that caller.
        if (!_open.Wait(TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException("The test never released the held call.");
        }

        if (YieldFirst)
        {
            await Task.Yield();
        }

        if (Fail)
        {
            _answered.Writer.TryWrite("failed");
            throw new InvalidOperationException("The shared budget store is unreachable.");
        }

        long total = answer();
        _answered.Writer.TryWrite(kind);
        return total;
    }
}
