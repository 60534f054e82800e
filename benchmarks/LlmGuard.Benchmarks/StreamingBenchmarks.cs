using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;

namespace LlmGuard.Benchmarks;

/// <summary>
/// What a guarded stream adds to each item, against consumers enumerating the core themselves: 10 concurrent consumers
/// of one key (one shared upstream against 10 upstreams of their own) and a lone consumer. The core waits once for its
/// round's consumers to start, then yields its items at one of two paces: synchronously, so consumers read items that
/// are already buffered, or after a yield to the thread pool each, as a model's tokens arrive, so consumers wait for
/// every item. What is measured is the guard, not the core.
/// </summary>
/// <remarks>
/// BenchmarkDotNet's OperationsPerInvoke must be a constant, so every row delivers <see cref="ItemsPerInvoke"/> items
/// per invocation, in as many rounds of fresh streams as that takes: Mean and Allocated are per item delivered to a
/// consumer, with each stream's start and end spread over its items as they would be for a stream of that length.
/// </remarks>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory, BenchmarkLogicalGroupRule.ByParams)]
public partial class StreamingBenchmarks
{
    private const int Consumers = 10;
    private const int ItemsPerInvoke = 10_000;
    private const string TenConsumers = "10 consumers, one key";
    private const string OneConsumer = "1 consumer";
    private const string Chunk = "chunk";

    private readonly GuardRuntime _runtime = new();
    private readonly Task<int>[] _consumers = new Task<int>[Consumers];
    private TaskCompletionSource _consumersStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _upstreams;

    /// <summary>How the core produces its items after its first await.</summary>
    public enum UpstreamPace
    {
        /// <summary>Every item at once: consumers of a shared stream read a buffer that is ahead of them.</summary>
        Synchronous,

        /// <summary>A yield to the thread pool before each item: consumers keep up and wait for every item.</summary>
        AwaitsEachItem,
    }

    /// <summary>Gets or sets how many items each upstream yields.</summary>
    [Params(100, 1000)]
    public int Items { get; set; }

    /// <summary>Gets or sets how the core produces its items.</summary>
    [ParamsAllValues]
    public UpstreamPace Pace { get; set; }

    [Benchmark(Baseline = true, OperationsPerInvoke = ItemsPerInvoke, Description = "core enumerated by each consumer (10 upstreams)")]
    [BenchmarkCategory(TenConsumers)]
    public Task DirectTen() => RunAsync(Consumers, static self => self.AnswerCoreAsync("topic-1", CancellationToken.None), upstreamsPerRound: Consumers);

    [Benchmark(OperationsPerInvoke = ItemsPerInvoke, Description = "LlmGuard [Guarded] stream shared (1 upstream)")]
    [BenchmarkCategory(TenConsumers)]
    public Task GuardedTen() => RunAsync(Consumers, static self => self.AnswerAsync("topic-1", CancellationToken.None), upstreamsPerRound: 1);

    [Benchmark(OperationsPerInvoke = ItemsPerInvoke, Description = "LlmGuard [Guarded] stream shared, no deadlines (1 upstream)")]
    [BenchmarkCategory(TenConsumers)]
    public Task GuardedTenWithoutDeadlines() => RunAsync(Consumers, static self => self.AnswerWithoutDeadlinesAsync("topic-1", CancellationToken.None), upstreamsPerRound: 1);

    [Benchmark(Baseline = true, OperationsPerInvoke = ItemsPerInvoke, Description = "core enumerated directly")]
    [BenchmarkCategory(OneConsumer)]
    public Task DirectOne() => RunAsync(1, static self => self.AnswerCoreAsync("topic-1", CancellationToken.None), upstreamsPerRound: 1);

    [Benchmark(OperationsPerInvoke = ItemsPerInvoke, Description = "LlmGuard [Guarded] stream")]
    [BenchmarkCategory(OneConsumer)]
    public Task GuardedOne() => RunAsync(1, static self => self.AnswerAsync("topic-1", CancellationToken.None), upstreamsPerRound: 1);

    [Benchmark(OperationsPerInvoke = ItemsPerInvoke, Description = "LlmGuard [Guarded] stream, no deadlines")]
    [BenchmarkCategory(OneConsumer)]
    public Task GuardedOneWithoutDeadlines() => RunAsync(1, static self => self.AnswerWithoutDeadlinesAsync("topic-1", CancellationToken.None), upstreamsPerRound: 1);

    // What users write for a streamed answer: TimeoutMs bounds the first item and every gap after it.
    [Guarded(Scene = "stream", Key = "{topic}", TimeoutMs = 30_000, MaxRetries = 2, RetryDelayMs = 200)]
    public partial IAsyncEnumerable<string> AnswerAsync(string topic, CancellationToken cancellationToken);

    // The same stream without deadlines: the difference to the row above is what arming the per-item timer costs.
    [Guarded(Scene = "stream-no-deadlines", Key = "{topic}", TimeoutMs = 0, MaxRetries = 2, RetryDelayMs = 200)]
    public partial IAsyncEnumerable<string> AnswerWithoutDeadlinesAsync(string topic, CancellationToken cancellationToken);

    private IAsyncEnumerable<string> AnswerWithoutDeadlinesCoreAsync(string topic, CancellationToken cancellationToken) =>
        AnswerCoreAsync(topic, cancellationToken);

    private async IAsyncEnumerable<string> AnswerCoreAsync(string topic, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _upstreams);

        // The only await of the core: every consumer of the round has joined before the first item, so a shared
        // stream is shared by all of them rather than finishing before the last one asks.
        await _consumersStarted.Task.ConfigureAwait(false);
        for (int i = 0; i < Items; i++)
        {
            if (Pace == UpstreamPace.AwaitsEachItem)
            {
                await Task.Yield();
            }

            yield return Chunk;
        }
    }

    private async Task RunAsync(int consumers, Func<StreamingBenchmarks, IAsyncEnumerable<string>> open, int upstreamsPerRound)
    {
        int rounds = ItemsPerInvoke / (consumers * Items);
        for (int round = 0; round < rounds; round++)
        {
            _consumersStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _upstreams = 0;
            for (int i = 0; i < consumers; i++)
            {
                _consumers[i] = CountAsync(open(this));
            }

            _consumersStarted.TrySetResult();
            await Task.WhenAll(_consumers.AsSpan(0, consumers)).ConfigureAwait(false);
            ThrowIfNotAsExpected(consumers, upstreamsPerRound);
        }
    }

    // A row that measured something else (a consumer short of items, a stream not shared) must fail, not report.
    private void ThrowIfNotAsExpected(int consumers, int upstreamsPerRound)
    {
        int upstreams = Volatile.Read(ref _upstreams);
        if (upstreams != upstreamsPerRound)
        {
            throw new InvalidOperationException($"{upstreams} upstreams ran in a round that expects {upstreamsPerRound}.");
        }

        for (int i = 0; i < consumers; i++)
        {
            if (_consumers[i].Result != Items)
            {
                throw new InvalidOperationException($"A consumer read {_consumers[i].Result} items of {Items}.");
            }
        }
    }

    private static async Task<int> CountAsync(IAsyncEnumerable<string> items)
    {
        int count = 0;
        await foreach (string item in items.ConfigureAwait(false))
        {
            count += item.Length > 0 ? 1 : 0;
        }

        return count;
    }
}
