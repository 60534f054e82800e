using System;
using System.Diagnostics;
using System.Threading.Tasks;
using LlmGuard.Caching;
using LlmGuard.Tests.Telemetry;

namespace LlmGuard.Tests.Caching;

/// <summary>A caller answered from the cache is traced as such, with a link to the execution whose answer it got.</summary>
[Collection(nameof(TelemetryCollection))]
public sealed class CacheTraceTests
{
    [Fact]
    public async Task A_cache_hit_is_a_cached_call_linked_to_the_execution_that_stored_the_answer()
    {
        using var host = new CacheTestHost();
        using var trace = new TraceRecorder();
        var assistant = new CachedAssistant(host.Runtime);

        await assistant.AskAsync("how do I reset my password?");
        await assistant.AskAsync("how do I reset my password?");

        AssertLinkedHit(trace);
    }

    [Fact]
    public async Task The_link_survives_the_distributed_cache_to_another_instance()
    {
        var shared = new RecordingDistributedCache(new Microsoft.Extensions.Caching.Memory.MemoryDistributedCacheOptions());
        var serializers = new LlmGuardCacheSerializerFactory(CachedReplyJsonContext.Default);
        using var first = new CacheTestHost(distributedCache: shared, serializers: serializers);
        using var second = new CacheTestHost(distributedCache: shared, serializers: serializers);
        using var trace = new TraceRecorder();

        await new CachedAssistant(first.Runtime).AskAsync("q");
        await new CachedAssistant(second.Runtime).AskAsync("q");

        AssertLinkedHit(trace);
    }

    private static void AssertLinkedHit(TraceRecorder trace)
    {
        Activity execution = Assert.Single(trace.Stopped, a => a.OperationName == "llmguard.execution cache_ask");
        Activity hit = Assert.Single(trace.Stopped, a => a.OperationName == "llmguard.call cache_ask");
        Assert.Equal("cached", hit.GetTagItem("llmguard.outcome"));
        Assert.Equal("success", hit.GetTagItem("llmguard.result"));
        Assert.Equal(trace.Root.SpanId, hit.ParentSpanId);
        Assert.Equal(execution.Context, Assert.Single(hit.Links).Context);
    }
}
