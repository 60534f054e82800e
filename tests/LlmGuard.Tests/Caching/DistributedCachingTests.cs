using System;
using System.Threading.Tasks;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Caching;

/// <summary>
/// CacheSeconds with a distributed second level: an answer one process stored is read by another process, whose
/// HybridCache has nothing in memory, from the serialized bytes.
/// </summary>
public sealed class DistributedCachingTests : IDisposable
{
    private readonly CacheTestHost _first;
    private readonly CacheTestHost _second;

    public DistributedCachingTests()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        IDistributedCache shared = CacheTestHost.DistributedCache(time);
        _first = new CacheTestHost(distributedCache: shared, time: time);
        _second = new CacheTestHost(distributedCache: shared, time: time);
    }

    public void Dispose()
    {
        _first.Dispose();
        _second.Dispose();
    }

    [Fact]
    public async Task An_answer_stored_by_one_process_is_served_to_another_from_the_distributed_cache()
    {
        var first = new CachedAssistant(_first.Runtime);
        var second = new CachedAssistant(_second.Runtime);

        CachedReply stored = await first.AskAsync("how do I reset my password?");
        CachedReply read = await second.AskAsync("how do I reset my password?");

        Assert.Equal(1, first.Executions);
        Assert.Equal(0, second.Executions);
        Assert.Equal(stored, read);
        Assert.NotSame(stored, read);
    }

    [Fact]
    public async Task The_tokens_of_an_answer_read_from_the_distributed_cache_are_counted_as_saved()
    {
        // Nothing listens to the first process: its execution keeps the tokens the core reported with the answer anyway.
        using var saved = new MetricCollector<long>(_second.Meters, "LlmGuard", "llmguard.tokens.saved");
        var first = new CachedAssistant(_first.Runtime);
        var second = new CachedAssistant(_second.Runtime);

        await first.AskCountedAsync("q");
        await second.AskCountedAsync("q");

        Assert.Equal(0, second.Executions);
        CollectedMeasurement<long> measurement = Assert.Single(saved.GetMeasurementSnapshot());
        Assert.Equal(120, measurement.Value);
    }
}
