using System;
using System.Diagnostics;
using System.Threading.Tasks;
using LlmGuard.Redis.Tests.Infrastructure;
using LlmGuard.Usage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Budgets;

/// <summary>Shared budgets while Redis is away: the test stops its own server, so it has one to itself.</summary>
public sealed class BudgetOutageTests : IAsyncLifetime
{
    private const string Budget = "tenant-hourly";
    private readonly RedisServer _server = new();
    private readonly OwnedResources _owned = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _owned.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task With_redis_stopped_calls_answer_within_the_bound_are_never_refused_for_it_and_the_budget_counts_this_instance_alone()
    {
        var model = new SpendingModel { Tokens = 400 };
        BudgetedAssistant assistant = Instance("test-" + Guid.NewGuid().ToString("N") + ":", model, budget: 1_000);
        using IDisposable _ = LlmCallContext.Begin(tenant: "t1");

        await _server.StopAsync();

        // 0, 400 and 800 tokens spent: admitted, each far within the connection's own 20 s timeouts.
        for (int i = 0; i < 3; i++)
        {
            Stopwatch call = Stopwatch.StartNew();
            Assert.Equal("ok", await assistant.AskAsync("q" + i).WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.True(call.Elapsed < TimeSpan.FromSeconds(5), $"call {i} took {call.Elapsed}");
        }

        // 1,200 counted on this instance: its own count refuses, as without Redis.
        await Assert.ThrowsAsync<LlmBudgetExceededException>(() => assistant.AskAsync("q3").WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(3, model.Executions);
    }

    [Fact]
    public async Task Once_redis_is_back_the_tokens_of_later_executions_reach_it_again()
    {
        string prefix = "test-" + Guid.NewGuid().ToString("N") + ":";
        BudgetedAssistant assistant = Instance(prefix, new SpendingModel { Tokens = 10 }, budget: 1_000_000);
        using IDisposable _ = LlmCallContext.Begin(tenant: "t1");

        await _server.StopAsync();
        await assistant.AskAsync("while away").WaitAsync(TimeSpan.FromSeconds(10));
        await _server.StartAsync();

        // The multiplexer reconnects on its own schedule; each execution after that sends its tokens.
        await using ConnectionMultiplexer admin = await _server.ConnectAsync();
        Stopwatch waited = Stopwatch.StartNew();
        int call = 0;
        while (!await admin.GetDatabase().KeyExistsAsync(prefix + "budget:" + Budget + ":t1"))
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "no tokens reached Redis after it came back");
            await assistant.AskAsync("after " + call++).WaitAsync(TimeSpan.FromSeconds(10));
            await Task.Delay(50);
        }
    }

    private BudgetedAssistant Instance(string prefix, SpendingModel model, long budget)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddSingleton<TimeProvider>(new FakeTimeProvider());
        services.AddLlmGuard(options => options.Budgets[Budget] = new LlmTokenBudget { Per = LlmBudgetScope.Tenant, Tokens = budget, Period = TimeSpan.FromHours(1) })
            .AddRedis(options =>
            {
                options.Configuration = _server.ConfigurationWithLongTimeouts;
                options.KeyPrefix = prefix;
                options.RedisTimeout = TimeSpan.FromMilliseconds(300);
            });
        ServiceProvider instance = _owned.Add(services.BuildServiceProvider());
        return new BudgetedAssistant(instance.GetRequiredService<GuardRuntime>(), model);
    }
}
