using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Caching;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;

namespace LlmGuard.Extensions.AI.Tests;

/// <summary><c>CacheSeconds</c> on <c>UseLlmGuard()</c>: a stored response answers a later request with the same key.</summary>
public sealed class CachingTests
{
    [Fact]
    public async Task A_cached_response_answers_a_later_identical_request_without_an_HTTP_request()
    {
        await using GuardedChat chat = await GuardedChat.StartAsync(guard => guard.CacheSeconds = 600, ServerReply.Status(200, GuardedChat.Completion));
        using MetricCollector<long> calls = chat.Collect<long>("llmguard.calls");
        using MetricCollector<long> saved = chat.Collect<long>("llmguard.tokens.saved");

        ChatResponse first = await chat.Chat.GetResponseAsync("Where is my order?").Within();
        ChatResponse second = await chat.Chat.GetResponseAsync("Where is my order?").Within();

        Assert.Equal(1, chat.Server.Requests);
        Assert.Equal("hello", second.Text);
        Assert.NotSame(first, second);
        Assert.Equal(["executed", "cached"], calls.GetMeasurementSnapshot().Select(m => (string)m.Tags["llmguard.outcome"]!));
        Assert.Equal(18, saved.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Fact]
    public async Task A_cached_response_is_not_served_to_another_tenant()
    {
        await using GuardedChat chat = await GuardedChat.StartAsync(guard => guard.CacheSeconds = 600, ServerReply.Status(200, GuardedChat.Completion));

        using (LlmCallContext.Begin(tenant: "t1"))
        {
            await chat.Chat.GetResponseAsync("Where is my order?").Within();
        }

        using (LlmCallContext.Begin(tenant: "t2"))
        {
            await chat.Chat.GetResponseAsync("Where is my order?").Within();
        }

        Assert.Equal(2, chat.Server.Requests);
    }

    [Fact]
    public async Task A_response_stored_in_the_distributed_cache_by_one_process_answers_another_through_AIJsonUtilities_contracts()
    {
        // Two containers stand for two processes sharing one Redis; the second level serializes ChatResponse with the
        // source-generated contracts of Microsoft.Extensions.AI, not with reflection.
        var shared = new SharedCache(new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions())));
        void Register(IServiceCollection services)
        {
            services.AddSingleton<IDistributedCache>(shared);
            services.AddHybridCache().AddSerializerFactory(new LlmGuardCacheSerializerFactory(AIJsonUtilities.DefaultOptions.TypeInfoResolver!));
        }

        await using GuardedChat first = await GuardedChat.StartAsync(guard => guard.CacheSeconds = 600, Register, ServerReply.Status(200, GuardedChat.Completion));
        await using GuardedChat second = GuardedChat.BesideOf(first, guard => guard.CacheSeconds = 600, Register);

        await first.Chat.GetResponseAsync("Where is my order?").Within();
        ChatResponse answer = await second.Chat.GetResponseAsync("Where is my order?").Within();

        Assert.Equal(1, first.Server.Requests);
        Assert.Equal("hello", answer.Text);
        Assert.Equal(11, answer.Usage!.InputTokenCount);
        Assert.Equal("gpt-4o-mini", answer.ModelId);
    }

    /// <summary>
    /// Stands for a Redis both processes reach: HybridCache treats a bare <see cref="MemoryDistributedCache"/> as no
    /// second level at all, so the in-memory store is wrapped.
    /// </summary>
    private sealed class SharedCache(IDistributedCache inner) : IDistributedCache
    {
        public byte[]? Get(string key) => inner.Get(key);

        public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => inner.GetAsync(key, token);

        public void Refresh(string key) => inner.Refresh(key);

        public Task RefreshAsync(string key, CancellationToken token = default) => inner.RefreshAsync(key, token);

        public void Remove(string key) => inner.Remove(key);

        public Task RemoveAsync(string key, CancellationToken token = default) => inner.RemoveAsync(key, token);

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => inner.Set(key, value, options);

        public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
            inner.SetAsync(key, value, options, token);
    }
}
