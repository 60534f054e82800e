using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using LlmGuard.Usage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace LlmGuard.Tests.Usage;

/// <summary>Usage records reach the sinks off the callers' path: a slow sink costs records, never a caller's time.</summary>
public sealed class UsageSinkTests
{
    [Fact]
    public async Task A_full_queue_drops_and_counts_records_and_never_blocks_a_caller()
    {
        var sink = new BlockingSink();
        using var kit = new UsageTestKit(options => options.UsageQueueCapacity = 2, sink);
        var assistant = new ReportingAssistant(kit.Runtime, (_, _) =>
        {
            LlmUsage.Report(10, 1);
            return Task.FromResult("ok");
        });

        // The first record is taken off the queue and the sink holds it; the queue then has room for two.
        await assistant.AskAsync("q0").Within();
        await sink.Entered.Task.Within();
        for (int i = 1; i <= 5; i++)
        {
            await assistant.AskAsync("q" + i).Within();
        }

        Assert.Equal(3, kit.Runtime.Usage.DroppedCount);
        FakeLogRecord dropped = Assert.Single(kit.Logs.Collector.GetSnapshot(), log => log.Id.Id == 9);
        Assert.Equal("UsageRecordsDropped", dropped.Id.Name);

        // At most one event a minute, each with the drops since the previous event: the two unlogged ones and q6's.
        kit.Clock.Advance(TimeSpan.FromMinutes(1));
        await assistant.AskAsync("q6").Within();
        await assistant.AskAsync("q7").Within();
        FakeLogRecord[] drops = kit.Logs.Collector.GetSnapshot().Where(log => log.Id.Id == 9).ToArray();
        Assert.Equal(2, drops.Length);
        Assert.StartsWith("3 usage records were dropped", drops[1].Message, StringComparison.Ordinal);
        Assert.Contains("4 dropped since the runtime started", drops[1].Message, StringComparison.Ordinal);
        Assert.Equal(5, kit.Runtime.Usage.DroppedCount);

        sink.Release.Release(int.MaxValue / 2);
        IReadOnlyList<LlmUsageRecord> delivered = await kit.RecordsAsync();
        Assert.Equal(3, delivered.Count);
        Assert.Equal(3, sink.Records.Count);
    }

    [Fact]
    public async Task A_sink_that_throws_is_logged_and_still_receives_later_records()
    {
        var failing = new FailingOnceSink();
        using var kit = new UsageTestKit(configure: null, failing);
        var assistant = new ReportingAssistant(kit.Runtime, (_, _) =>
        {
            LlmUsage.Report(10, 1);
            return Task.FromResult("ok");
        });

        await assistant.AskAsync("first").Within();
        await kit.RecordsAsync();
        await assistant.AskAsync("second").Within();
        IReadOnlyList<LlmUsageRecord> delivered = await kit.RecordsAsync();

        Assert.Equal(2, delivered.Count);
        Assert.Equal(2, failing.Batches);
        FakeLogRecord failure = Assert.Single(kit.Logs.Collector.GetSnapshot(), log => log.Id.Name == "UsageSinkFailed");
        Assert.Equal(LogLevel.Error, failure.Level);
        Assert.IsType<InvalidOperationException>(failure.Exception);
    }

    private sealed class BlockingSink : ILlmUsageSink
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public SemaphoreSlim Release { get; } = new(0);

        public ConcurrentQueue<LlmUsageRecord> Records { get; } = new();

        public async ValueTask WriteAsync(IReadOnlyList<LlmUsageRecord> records, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await Release.WaitAsync(cancellationToken);
            foreach (LlmUsageRecord record in records)
            {
                Records.Enqueue(record);
            }
        }
    }

    private sealed class FailingOnceSink : ILlmUsageSink
    {
        private int _batches;

        public int Batches => Volatile.Read(ref _batches);

        public ValueTask WriteAsync(IReadOnlyList<LlmUsageRecord> records, CancellationToken cancellationToken) =>
            Interlocked.Increment(ref _batches) == 1
                ? throw new InvalidOperationException("The usage table is locked.")
                : default;
    }
}
