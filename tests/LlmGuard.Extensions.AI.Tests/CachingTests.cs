using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Caching;
using LlmGuard.Hosting;
using LlmGuard.Profiles;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
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
        await using GuardedChat chat = await GuardedChat.StartAsync(Cached, ServerReply.Status(200, GuardedChat.Completion));
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
        await using GuardedChat chat = await GuardedChat.StartAsync(Cached, ServerReply.Status(200, GuardedChat.Completion));

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

        await using GuardedChat first = await GuardedChat.StartAsync(Cached, Register, ServerReply.Status(200, GuardedChat.Completion));
        await using GuardedChat second = GuardedChat.BesideOf(first, Cached, Register);

        await first.Chat.GetResponseAsync("Where is my order?").Within();
        ChatResponse answer = await second.Chat.GetResponseAsync("Where is my order?").Within();

        Assert.Equal(1, first.Server.Requests);
        Assert.Equal("hello", answer.Text);
        Assert.Equal(11, answer.Usage!.InputTokenCount);
        Assert.Equal("gpt-4o-mini", answer.ModelId);
    }

    [Fact]
    public async Task Two_model_profiles_under_one_scene_never_answer_from_each_others_cache()
    {
        // Two pipelines of one scene and settings over two profiles of one model: only the profile tells them apart.
        var model = new CountingChatClient();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddKeyedSingleton<IChatClient>("model", model);
        services.AddLlmGuard()
            .AddModelProfile("fast", profile => profile.Models.Add(new LlmProfileModelOptions { Client = "model" }))
            .AddModelProfile("careful", profile => profile.Models.Add(new LlmProfileModelOptions { Client = "model" }));
        await using ServiceProvider provider = services.BuildServiceProvider();
        LlmModelProfiles profiles = provider.GetRequiredService<LlmModelProfiles>();
        IChatClient fast = new ChatClientBuilder(profiles.Get("fast")).UseLlmGuard(configure: CachedProfile).Build(provider);
        IChatClient careful = new ChatClientBuilder(profiles.Get("careful")).UseLlmGuard(configure: CachedProfile).Build(provider);

        await fast.GetResponseAsync("Where is my order?").Within();
        await careful.GetResponseAsync("Where is my order?").Within();
        await fast.GetResponseAsync("Where is my order?").Within();

        Assert.Equal(2, model.Requests);
    }

    // A scene of its own: one UseLlmGuard() scene has one set of settings in a process.
    private static void Cached(LlmGuardChatClientOptions guard)
    {
        guard.Scene = "cached_chat";
        guard.CacheSeconds = 600;
    }

    private static void CachedProfile(LlmGuardChatClientOptions guard)
    {
        guard.Scene = "profiled_chat";
        guard.CacheSeconds = 600;
    }

    private sealed class CountingChatClient : IChatClient
    {
        private int _requests;

        public int Requests => Volatile.Read(ref _requests);

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            int request = Interlocked.Increment(ref _requests);
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, $"answer {request}")));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
