using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Redis.Budgets;
using LlmGuard.Redis.Tests.Infrastructure;
using LlmGuard.Usage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Budgets;

/// <summary>
/// A tenant budget over two instances, each a container with its own runtime, fake clock and connection to a real
/// Redis: the instances refuse once their combined tokens reach the budget, and admit again when Redis ends the period.
/// </summary>
public sealed class SharedBudgetTests(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private const string Budget = "tenant-hourly";
    private const string Tenant = "t1";
    private static readonly TimeSpan s_realBound = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_refresh = TimeSpan.FromSeconds(1);

    private readonly string _prefix = "test-" + Guid.NewGuid().ToString("N") + ":";
    private readonly OwnedResources _owned = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _owned.DisposeAsync().AsTask();

    [Fact]
    public async Task Two_instances_both_refuse_a_tenant_once_their_combined_tokens_reach_its_budget()
    {
        var model = new SpendingModel { Tokens = 600 };
        (BudgetedAssistant first, FakeTimeProvider firstClock) = Instance(model, TimeSpan.FromHours(1));
        (BudgetedAssistant second, _) = Instance(model, TimeSpan.FromHours(1));
        using IDisposable tenant = LlmCallContext.Begin(tenant: Tenant);

        // 600 tokens on each instance: below the budget on either alone, 1,200 over both.
        await first.AskAsync("a").WaitAsync(s_realBound);
        await SharedTotalAsync(600);
        await second.AskAsync("b").WaitAsync(s_realBound);
        await SharedTotalAsync(1_200);

        // The probes spend nothing: an admitted probe changes no total.
        model.Tokens = 0;
        await RefusedSoonAsync(second);

        // The first instance last saw its own 600; once its view is a refresh interval old, it reads the total again.
        firstClock.Advance(s_refresh);
        await RefusedSoonAsync(first);
    }

    [Fact]
    public async Task Instances_admit_a_tenant_again_once_redis_ends_the_period_its_first_tokens_started()
    {
        TimeSpan period = TimeSpan.FromSeconds(3);
        var model = new SpendingModel { Tokens = 1_200 };
        (BudgetedAssistant spender, _) = Instance(model, period);
        (BudgetedAssistant other, FakeTimeProvider otherClock) = Instance(model, period);
        using IDisposable tenant = LlmCallContext.Begin(tenant: Tenant);

        await spender.AskAsync("a").WaitAsync(s_realBound);
        await SharedTotalAsync(1_200);
        model.Tokens = 0;
        await RefusedSoonAsync(other);

        await using ConnectionMultiplexer admin = await server.ConnectAsync();
        IDatabase redis = admin.GetDatabase();
        TimeSpan? ttl = await redis.KeyTimeToLiveAsync(Key);
        Assert.True(ttl > TimeSpan.Zero && ttl <= period, $"the period's TTL is {ttl}");
        Stopwatch waited = Stopwatch.StartNew();
        while (await redis.KeyExistsAsync(Key))
        {
            Assert.True(waited.Elapsed < s_realBound, "Redis kept the period past its TTL");
            await Task.Delay(50);
        }

        otherClock.Advance(s_refresh);
        await AdmittedSoonAsync(other);
    }

    [Fact]
    public async Task Tokens_counted_concurrently_on_three_instances_all_reach_the_shared_total()
    {
        // Stress: executions complete on every instance at once, so each instance's sends overlap its counts and the
        // other instances' sends; the shared total must end up the exact sum of every execution's tokens.
        const int Instances = 3;
        const int CallsPerInstance = 200;
        int seed = Environment.TickCount;
        var random = new Random(seed);
        var models = new SpendingModel[Instances];
        var assistants = new BudgetedAssistant[Instances];
        for (int i = 0; i < Instances; i++)
        {
            models[i] = new SpendingModel { Tokens = random.Next(1, 50) };
            assistants[i] = Instance(models[i], TimeSpan.FromHours(1), budget: long.MaxValue).Assistant;
        }

        using IDisposable tenant = LlmCallContext.Begin(tenant: Tenant);
        var calls = new List<Task<string>>();
        for (int call = 0; call < CallsPerInstance; call++)
        {
            foreach (BudgetedAssistant assistant in assistants)
            {
                string question = "q" + call;
                calls.Add(Task.Run(() => assistant.AskAsync(question)));
            }
        }

        await Task.WhenAll(calls).WaitAsync(s_realBound);
        long expected = 0;
        foreach (SpendingModel model in models)
        {
            expected += model.Executions * model.Tokens;
        }

        await SharedTotalAsync(expected, $"seed {seed}");
    }

    [Fact]
    public async Task Adding_to_a_running_period_returns_the_total_and_never_extends_the_period()
    {
        await using ConnectionMultiplexer connection = await server.ConnectAsync();
        var budgets = new RedisBudgets(connection, _prefix, TimeSpan.FromSeconds(5), s_refresh);

        Assert.Equal(0, await budgets.ReadAsync(Budget, Tenant, CancellationToken.None));
        Assert.Equal(100, await budgets.AddAsync(Budget, Tenant, TimeSpan.FromMinutes(10), 100, CancellationToken.None));
        TimeSpan? started = await connection.GetDatabase().KeyTimeToLiveAsync(Key);
        Assert.Equal(150, await budgets.AddAsync(Budget, Tenant, TimeSpan.FromHours(5), 50, CancellationToken.None));
        TimeSpan? later = await connection.GetDatabase().KeyTimeToLiveAsync(Key);

        Assert.Equal(150, await budgets.ReadAsync(Budget, Tenant, CancellationToken.None));
        Assert.True(started <= TimeSpan.FromMinutes(10) && later <= started, $"TTL {started}, then {later}");
    }

    [Fact]
    public void With_ShareBudgets_off_the_runtime_counts_budgets_on_its_instance_alone()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddLlmGuard().AddRedis(options =>
        {
            options.Configuration = server.Configuration;
            options.ShareBudgets = false;
        });
        ServiceProvider instance = services.BuildServiceProvider();
        _owned.Add(instance);

        GuardRuntime runtime = instance.GetRequiredService<GuardRuntime>();

        Assert.Null(runtime.DistributedBudgets);
        Assert.NotNull(runtime.DistributedFlights);
    }

    private string Key => _prefix + "budget:" + Budget + ":" + Tenant;

    private (BudgetedAssistant Assistant, FakeTimeProvider Clock) Instance(SpendingModel model, TimeSpan period, long budget = 1_000)
    {
        var clock = new FakeTimeProvider();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddSingleton<TimeProvider>(clock);
        services.AddLlmGuard(options => options.Budgets[Budget] = new LlmTokenBudget { Per = LlmBudgetScope.Tenant, Tokens = budget, Period = period })
            .AddRedis(options =>
            {
                options.Configuration = server.Configuration;
                options.KeyPrefix = _prefix;
                options.RedisTimeout = TimeSpan.FromSeconds(5);
                options.BudgetRefreshInterval = s_refresh;
            });
        ServiceProvider instance = services.BuildServiceProvider();
        _owned.Add(instance);
        return (new BudgetedAssistant(instance.GetRequiredService<GuardRuntime>(), model), clock);
    }

    private async Task SharedTotalAsync(long expected, string? context = null)
    {
        await using ConnectionMultiplexer admin = await server.ConnectAsync();
        Stopwatch waited = Stopwatch.StartNew();
        while ((long?)await admin.GetDatabase().StringGetAsync(Key) != expected)
        {
            Assert.True(waited.Elapsed < s_realBound, $"the shared total never reached {expected} {context}");
            await Task.Delay(10);
        }
    }

    // An instance learns of the shared total one round trip after it asked: probe until it refuses, within a bound.
    private static async Task RefusedSoonAsync(BudgetedAssistant instance)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await instance.AskAsync("probe").WaitAsync(s_realBound);
            }
            catch (LlmBudgetExceededException refusal)
            {
                Assert.Equal(Budget, refusal.Budget);
                return;
            }

            Assert.True(waited.Elapsed < s_realBound, "the instance still admits the tenant");
            await Task.Delay(10);
        }
    }

    private static async Task AdmittedSoonAsync(BudgetedAssistant instance)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                Assert.Equal("ok", await instance.AskAsync("probe").WaitAsync(s_realBound));
                return;
            }
            catch (LlmBudgetExceededException) when (waited.Elapsed < s_realBound)
            {
                await Task.Delay(10);
            }
        }
    }
}
