using System;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Caching;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace LlmGuard.Tests.Caching;

/// <summary>The result types of the cached methods, source-generated as a native AOT application lists them.</summary>
[JsonSerializable(typeof(CachedReply))]
internal sealed partial class CachedReplyJsonContext : JsonSerializerContext;

/// <summary>A context that knows none of the cached results.</summary>
[JsonSerializable(typeof(int))]
internal sealed partial class UnrelatedJsonContext : JsonSerializerContext;

/// <summary>
/// Two instances of a service, each with its own HybridCache and memory level, over one distributed cache: an answer
/// one instance stored reaches the other only through serialization.
/// </summary>
public sealed class DistributedCacheTests : IDisposable
{
    private readonly RecordingDistributedCache _shared = new(new MemoryDistributedCacheOptions());
    private CacheTestHost? _first;
    private CacheTestHost? _second;

    public void Dispose()
    {
        _first?.Dispose();
        _second?.Dispose();
    }

    [Fact]
    public async Task An_answer_stored_by_one_instance_is_served_to_another_through_the_source_generated_serializer()
    {
        (CachedAssistant first, CachedAssistant second) = Instances(new LlmGuardCacheSerializerFactory(CachedReplyJsonContext.Default));

        CachedReply stored = await first.AskAsync("how do I reset my password?");
        CachedReply served = await second.AskAsync("how do I reset my password?");

        Assert.Equal(stored, served);
        Assert.Equal(1, first.Executions);
        Assert.Equal(0, second.Executions);
        string entry = Assert.Single(_shared.Written.Values);
        Assert.Contains("\"tokens\":0,\"value\":{\"Text\":\"answer to how do I reset my password?\"}", entry, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_result_type_the_resolver_does_not_know_is_left_to_the_cache_s_default_serializer()
    {
        (CachedAssistant first, CachedAssistant second) = Instances(new LlmGuardCacheSerializerFactory(UnrelatedJsonContext.Default));

        CachedReply stored = await first.AskAsync("q");
        CachedReply served = await second.AskAsync("q");

        Assert.Equal(stored, served);
        Assert.Equal(0, second.Executions);
        Assert.DoesNotContain("\"tokens\":0,\"value\"", Assert.Single(_shared.Written.Values), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_user_is_never_served_another_user_s_answer_from_the_distributed_cache()
    {
        (CachedAssistant first, CachedAssistant second) = Instances(new LlmGuardCacheSerializerFactory(CachedReplyJsonContext.Default));
        using (LlmCallContext.Begin(user: "ann"))
        {
            await first.AskAsync("where is my order?");
        }

        using (LlmCallContext.Begin(user: "bob"))
        {
            await second.AskAsync("where is my order?");
        }

        Assert.Equal(1, second.Executions);
        Assert.Equal(2, _shared.Written.Count);
    }

    private (CachedAssistant First, CachedAssistant Second) Instances(LlmGuardCacheSerializerFactory serializers)
    {
        _first = new CacheTestHost(distributedCache: _shared, serializers: serializers);
        _second = new CacheTestHost(distributedCache: _shared, serializers: serializers);
        return (new CachedAssistant(_first.Runtime), new CachedAssistant(_second.Runtime));
    }
}

/// <summary>
/// A real in-memory distributed cache that also keeps what was written, to show the serialized form. A type of its
/// own, because HybridCache ignores a <see cref="MemoryDistributedCache"/> as its second level.
/// </summary>
internal sealed class RecordingDistributedCache(MemoryDistributedCacheOptions options) : IDistributedCache
{
    private readonly MemoryDistributedCache _inner = new(Options.Create(options));

    public ConcurrentDictionary<string, string> Written { get; } = new();

    public byte[]? Get(string key) => _inner.Get(key);

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => _inner.GetAsync(key, token);

    public void Refresh(string key) => _inner.Refresh(key);

    public Task RefreshAsync(string key, CancellationToken token = default) => _inner.RefreshAsync(key, token);

    public void Remove(string key) => _inner.Remove(key);

    public Task RemoveAsync(string key, CancellationToken token = default) => _inner.RemoveAsync(key, token);

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        Written[key] = Encoding.UTF8.GetString(value);
        _inner.Set(key, value, options);
    }

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        Written[key] = Encoding.UTF8.GetString(value);
        return _inner.SetAsync(key, value, options, token);
    }
}
