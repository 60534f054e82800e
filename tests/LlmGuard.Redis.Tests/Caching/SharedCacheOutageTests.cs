using System;
using System.Diagnostics;
using System.Threading.Tasks;
using LlmGuard.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Redis.Tests.Caching;

/// <summary>The shared cache while Redis is away: the test stops its own server, so it has one to itself.</summary>
public sealed class SharedCacheOutageTests : IAsyncLifetime
{
    private readonly RedisServer _server = new();
    private readonly OwnedResources _owned = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _owned.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task With_redis_stopped_a_cached_scene_runs_its_execution_within_the_redis_timeout_and_answers()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddSingleton<TimeProvider>(new FakeTimeProvider());
        services.AddLlmGuard().AddRedis(options =>
        {
            options.Configuration = _server.ConfigurationWithLongTimeouts;
            options.KeyPrefix = "test-" + Guid.NewGuid().ToString("N") + ":";
            options.RedisTimeout = TimeSpan.FromMilliseconds(300);
            options.ShareCache = true;
        });
        ServiceProvider instance = _owned.Add(services.BuildServiceProvider());
        var model = new CountingModel();
        var assistant = new CachedAssistant(instance.GetRequiredService<GuardRuntime>(), model);

        await _server.StopAsync();
        Stopwatch call = Stopwatch.StartNew();
        string answer = await assistant.AskAsync("which plan").WaitAsync(TimeSpan.FromSeconds(10));

        // A read and a write of the second level, each bounded by 300 ms; the margin is for a loaded test machine.
        Assert.Equal("answer to which plan", answer);
        Assert.True(call.Elapsed < TimeSpan.FromSeconds(5), $"the call took {call.Elapsed}");
        Assert.Equal(1, model.Executions);
    }
}
