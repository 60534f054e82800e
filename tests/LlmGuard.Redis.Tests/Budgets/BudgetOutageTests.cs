using System;
using System.Diagnostics;
using System.Threading.Tasks;
using LlmGuard.Redis.Tests.Infrastructure;
using LlmGuard.Usage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Redis.Tests.Budgets;

/// <summary>Shared budgets while Redis is away: the test stops its own server, so it has one to itself.</summary>
public sealed class BudgetOutageTests : IAsyncLifetime
{
    private const string Budget = "tenant-hourly";
    private readonly RedisServer _server = new();
    private ServiceProvider? _instance;

    public Task InitializeAsync() => _server.InitializeAsync();

    public async Task DisposeAsync()
    {
        if (_instance is not null)
        {
            await _instance.DisposeAsync();
        }

        await _server.DisposeAsync();
    }

    [Fact]
    public async Task With_redis_stopped_calls_are_neither_slowed_nor_refused_and_the_budget_counts_this_instance_alone()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddSingleton<TimeProvider>(new FakeTimeProvider());
        services.AddLlmGuard(options => options.Budgets[Budget] = new LlmTokenBudget { Per = LlmBudgetScope.Tenant, Tokens = 1_000, Period = TimeSpan.FromHours(1) })
            .AddRedis(options =>
            {
                options.Configuration = _server.Configuration;
                options.KeyPrefix = "test-" + Guid.NewGuid().ToString("N") + ":";
                options.RedisTimeout = TimeSpan.FromMilliseconds(300);
            });
        _instance = services.BuildServiceProvider();
        var model = new SpendingModel { Tokens = 400 };
        var assistant = new BudgetedAssistant(_instance.GetRequiredService<GuardRuntime>(), model);
        using IDisposable _ = LlmCallContext.Begin(tenant: "t1");

        await _server.StopAsync();

        // 0, 400 and 800 tokens spent: admitted, each well within the connection's own 2 s timeouts.
        for (int i = 0; i < 3; i++)
        {
            Stopwatch call = Stopwatch.StartNew();
            Assert.Equal("ok", await assistant.AskAsync("q" + i).WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.True(call.Elapsed < TimeSpan.FromSeconds(1.5), $"call {i} took {call.Elapsed}");
        }

        // 1,200 counted on this instance: its own count refuses, as without Redis.
        await Assert.ThrowsAsync<LlmBudgetExceededException>(() => assistant.AskAsync("q3").WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(3, model.Executions);
    }
}
