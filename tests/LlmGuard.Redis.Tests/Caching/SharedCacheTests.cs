using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Caching;

/// <summary>The model of the cache tests: it counts executions and answers each question with its own text.</summary>
public sealed class CountingModel
{
    private int _executions;

    public int Executions => Volatile.Read(ref _executions);

    public Task<string> RespondAsync(string question)
    {
        Interlocked.Increment(ref _executions);
        return Task.FromResult("answer to " + question);
    }
}

/// <summary>A guarded method of a scene that caches its answers.</summary>
public partial class CachedAssistant(GuardRuntime runtime, CountingModel model)
{
    public const string Scene = "redis_cached";

    [Guarded(Scene = Scene, Key = "{$user}:{question}", CacheSeconds = 600, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> AskAsync(string question, CancellationToken cancellationToken = default);

    private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => model.RespondAsync(question);
}

/// <summary>
/// Cached answers across two instances, each a container with its own runtime, HybridCache and connection to a real
/// Redis: with ShareCache, HybridCache's second level is Redis.
/// </summary>
public sealed class SharedCacheTests(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    private readonly string _prefix = "test-" + Guid.NewGuid().ToString("N") + ":";
    private readonly OwnedResources _owned = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _owned.DisposeAsync().AsTask();

    [Fact]
    public async Task An_answer_cached_on_one_instance_serves_another_from_redis_without_an_execution()
    {
        var model = new CountingModel();
        CachedAssistant first = Instance(model, shareCache: true);
        CachedAssistant second = Instance(model, shareCache: true);

        Assert.Equal("answer to which plan", await first.AskAsync("which plan").WaitAsync(s_bound));
        Assert.NotEmpty(await CachedKeysAsync());
        Assert.Equal("answer to which plan", await second.AskAsync("which plan").WaitAsync(s_bound));

        Assert.Equal(1, model.Executions);
    }

    [Fact]
    public async Task Without_ShareCache_each_instance_caches_for_itself_and_nothing_reaches_redis()
    {
        var model = new CountingModel();
        CachedAssistant first = Instance(model, shareCache: false);
        CachedAssistant second = Instance(model, shareCache: false);

        await first.AskAsync("which plan").WaitAsync(s_bound);
        await second.AskAsync("which plan").WaitAsync(s_bound);

        Assert.Equal(2, model.Executions);
        Assert.Empty(await CachedKeysAsync());
    }

    private CachedAssistant Instance(CountingModel model, bool shareCache)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddSingleton<TimeProvider>(new FakeTimeProvider());
        services.AddLlmGuard().AddRedis(options =>
        {
            options.Configuration = server.Configuration;
            options.KeyPrefix = _prefix;
            options.ShareCache = shareCache;
        });
        ServiceProvider instance = services.BuildServiceProvider();
        _owned.Add(instance);
        return new CachedAssistant(instance.GetRequiredService<GuardRuntime>(), model);
    }

    private async Task<RedisKey[]> CachedKeysAsync()
    {
        await using ConnectionMultiplexer admin = await server.ConnectAsync();
        IServer redis = admin.GetServer(admin.GetEndPoints()[0]);
        return await redis.KeysAsync(pattern: _prefix + "cache:*").ToArrayAsync();
    }
}
