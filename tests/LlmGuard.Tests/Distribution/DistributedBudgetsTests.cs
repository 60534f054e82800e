using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Distribution;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Usage;
using LlmGuard.Usage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Distribution;

/// <summary>
/// Budgets counted over every instance through <see cref="IDistributedBudgets"/>: admission sees the shared total,
/// never waits for the hook, and keeps counting locally when the hook fails.
/// </summary>
public sealed class DistributedBudgetsTests : IDisposable
{
    private const string Budget = "tenant-daily";
    private const string Scene = "reporting";
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    private readonly FakeTimeProvider _clock = new();
    private readonly FakeLoggerProvider _logs = new();
    private readonly LoggerFactory _loggerFactory;
    private readonly LlmGuardOptions _options = new();
    private int _executions;

    public DistributedBudgetsTests()
    {
        _loggerFactory = new LoggerFactory([_logs]);
        _options.Budgets[Budget] = new LlmTokenBudget { Per = LlmBudgetScope.Tenant, Tokens = 1_000, Period = TimeSpan.FromDays(1) };
    }

    public void Dispose() => _loggerFactory.Dispose();

    [Fact]
    public async Task An_instance_refuses_a_tenant_once_the_shared_total_reaches_the_budget_though_it_spent_nothing_itself()
    {
        var shared = new ScriptedBudgets();
        shared.SpendElsewhere(Budget, "t1", 1_000);
        GuardRuntime runtime = Runtime(shared);
        ReportingAssistant assistant = Assistant(runtime, tokens: 0);

        using (LlmCallContext.Begin(tenant: "t1"))
        {
            // The first admission does not know the shared total yet: it asks for it in the background and, while
            // the store has not answered, runs.
            shared.Hold();
            Assert.Equal("ok", await assistant.AskAsync("first").Within());
            shared.Release();
            await shared.AnsweredAsync("read");
            AssertRefusedSoon(runtime, "t1");

            LlmBudgetExceededException refusal = await Assert.ThrowsAsync<LlmBudgetExceededException>(() => assistant.AskAsync("second").Within());
            Assert.Equal(Budget, refusal.Budget);
        }

        using (LlmCallContext.Begin(tenant: "t2"))
        {
            Assert.Equal("ok", await assistant.AskAsync("other tenant").Within());
        }

        Assert.Equal(2, _executions);
    }

    [Fact]
    public async Task Counted_tokens_reach_the_shared_store_and_the_total_it_returns_is_what_admission_compares()
    {
        var shared = new ScriptedBudgets();
        shared.SpendElsewhere(Budget, "t1", 600);
        GuardRuntime runtime = Runtime(shared);
        ReportingAssistant assistant = Assistant(runtime, tokens: 300);

        using (LlmCallContext.Begin(tenant: "t1"))
        {
            await assistant.AskAsync("a").Within();
            await assistant.AskAsync("b").Within();
        }

        // 600 elsewhere + 2 x 300 here: this instance's own 600 are below the budget, the shared 1,200 are not.
        Assert.True(SpinWait.SpinUntil(() => shared.TotalOf(Budget, "t1") == 1_200, s_bound), $"shared total {shared.TotalOf(Budget, "t1")}");
        AssertRefusedSoon(runtime, "t1");
        Assert.All(shared.Added, added =>
        {
            Assert.Equal((Budget, "t1", TimeSpan.FromDays(1)), (added.Budget, added.Partition, added.Period));
        });
        Assert.Equal(600, shared.Added.Sum(added => added.Tokens));
    }

    [Fact]
    public async Task A_shared_total_is_read_again_once_older_than_the_refresh_interval_and_not_before()
    {
        var shared = new ScriptedBudgets { RefreshInterval = TimeSpan.FromSeconds(5) };
        GuardRuntime runtime = Runtime(shared);
        ReportingAssistant assistant = Assistant(runtime, tokens: 0);
        using IDisposable _ = LlmCallContext.Begin(tenant: "t1");

        await assistant.AskAsync("a").Within();
        await shared.AnsweredAsync("read");
        shared.SpendElsewhere(Budget, "t1", 1_000);

        _clock.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal("ok", await assistant.AskAsync("b").Within());
        Assert.Equal(1, shared.CallsStarted);

        // Stale now: this admission reads the total for the next ones and, while the store has not answered, runs
        // on the old view.
        _clock.Advance(TimeSpan.FromSeconds(1));
        shared.Hold();
        Assert.Equal("ok", await assistant.AskAsync("c").Within());
        shared.Release();
        await shared.AnsweredAsync("read");
        AssertRefusedSoon(runtime, "t1");
        Assert.Equal(3, _executions);
    }

    [Fact]
    public async Task Calls_never_wait_for_the_shared_store_and_tokens_counted_meanwhile_are_sent_together()
    {
        var shared = new ScriptedBudgets();
        shared.Hold();
        GuardRuntime runtime = Runtime(shared);
        ReportingAssistant assistant = Assistant(runtime, tokens: 100);

        // Every exchange with the store blocks its thread until released: the calls complete all the same.
        using (LlmCallContext.Begin(tenant: "t1"))
        {
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal("ok", await assistant.AskAsync("q" + i).Within());
            }
        }

        // One exchange (the first admission's read, or an add) is in flight for the partition, and no other starts
        // beside it; the tokens counted meanwhile wait in one number, not in a queue of adds.
        Assert.True(SpinWait.SpinUntil(() => shared.CallsStarted == 1, s_bound));
        Assert.True(shared.Added.Count <= 1);

        // Once it answers, one more exchange sends what is left: five executions reach the store in at most two adds.
        shared.Release();
        Assert.True(SpinWait.SpinUntil(() => shared.TotalOf(Budget, "t1") == 500, s_bound), $"shared total {shared.TotalOf(Budget, "t1")}");
        Assert.True(shared.Added.Count <= 2, $"{shared.Added.Count} adds");
        Assert.True(shared.CallsStarted <= 2, $"{shared.CallsStarted} exchanges");
    }

    [Fact]
    public async Task An_add_waits_for_the_read_in_flight_so_the_older_answer_never_replaces_the_newer_total()
    {
        // Regression: a read and an add in flight together could be answered out of order, leaving the read's older,
        // lower total in the view until the next refresh, and the tenant admitted past its budget meanwhile.
        var shared = new ScriptedBudgets();
        shared.SpendElsewhere(Budget, "t1", 700);
        GuardRuntime runtime = Runtime(shared);
        using IDisposable _ = LlmCallContext.Begin(tenant: "t1");

        shared.Hold();
        await Assistant(runtime, tokens: 0).AskAsync("reads").Within();
        Assert.True(SpinWait.SpinUntil(() => shared.CallsStarted == 1, s_bound));
        await Assistant(runtime, tokens: 400).AskAsync("spends").Within();

        // The add has not started beside the read; it runs once the read has answered, and its total is the last.
        Assert.True(shared.Added.IsEmpty);
        shared.Release();
        Assert.True(SpinWait.SpinUntil(() => shared.TotalOf(Budget, "t1") == 1_100, s_bound));
        AssertRefusedSoon(runtime, "t1");
    }

    [Fact]
    public async Task A_failing_shared_store_leaves_the_budget_counting_this_instance_alone_and_is_logged_and_counted()
    {
        var shared = new ScriptedBudgets { Fail = true };
        GuardRuntime runtime = Runtime(shared);
        ReportingAssistant assistant = Assistant(runtime, tokens: 400);
        using IDisposable _ = LlmCallContext.Begin(tenant: "t1");

        // As without the hook: 0, 400 and 800 tokens spent are admitted; 1,200 are not.
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("ok", await assistant.AskAsync("q" + i).Within());
        }

        await Assert.ThrowsAsync<LlmBudgetExceededException>(() => assistant.AskAsync("q3").Within());
        Assert.Equal(3, _executions);
        Assert.True(SpinWait.SpinUntil(() => _logs.Collector.GetSnapshot().Any(record => record.Id.Id == 25), s_bound));
        Assert.True(runtime.Usage.SharedBudgetFailureCount >= 1);
        FakeLogRecord log = Assert.Single(_logs.Collector.GetSnapshot(), record => record.Id.Id == 25);
        Assert.Equal("SharedBudgetsUnavailable", log.Id.Name);
        Assert.IsType<InvalidOperationException>(log.Exception);
    }

    [Fact]
    public async Task Shared_views_of_partitions_idle_for_a_whole_period_are_dropped()
    {
        _options.Budgets[Budget].Per = LlmBudgetScope.User;
        _options.Budgets[Budget].Period = TimeSpan.FromMinutes(1);
        GuardRuntime runtime = Runtime(new ScriptedBudgets());
        ReportingAssistant assistant = Assistant(runtime, tokens: 1);

        for (int user = 0; user < 50; user++)
        {
            using (LlmCallContext.Begin(user: "u" + user))
            {
                await assistant.AskAsync("q").Within();
            }
        }

        Assert.Equal(50, runtime.Usage.SharedBudgetPartitionCount);
        _clock.Advance(TimeSpan.FromMinutes(1));
        using (LlmCallContext.Begin(user: "late"))
        {
            await assistant.AskAsync("q").Within();
        }

        Assert.Equal(1, runtime.Usage.SharedBudgetPartitionCount);
    }

    [Fact]
    public async Task Tokens_counted_from_many_threads_at_once_all_reach_the_shared_store()
    {
        // Stress: the exchange loop ends while other threads count. A count that found the loop still running as it ended
        // would be left behind, and the shared total would stay short until some later count started a loop. So each
        // round counts from every thread at once, then waits for the store to hold every token so far, with no later
        // count to rescue a token left behind.
        const int Threads = 4;
        const int Rounds = 2_000;
        int seed = Environment.TickCount;
        var shared = new ScriptedBudgets();
        var budgets = new TokenBudgets(_clock, new SharedBudgets(shared, _clock, _loggerFactory.CreateLogger("test")));
        _options.Budgets[Budget].Per = LlmBudgetScope.Scene;
        string? failure = null;
        using var rounds = new Barrier(Threads, barrier =>
        {
            long expected = ((barrier.CurrentPhaseNumber / 2) + 1) * Threads;
            if (barrier.CurrentPhaseNumber % 2 == 0 && failure is null
                && !SpinWait.SpinUntil(() => shared.TotalOf(Budget, Scene) == expected, TimeSpan.FromSeconds(2)))
            {
                failure = $"round {barrier.CurrentPhaseNumber / 2}: shared total {shared.TotalOf(Budget, Scene)} of {expected} (seed {seed})";
            }
        });

        Task[] workers = Enumerable.Range(0, Threads).Select(thread => Task.Factory.StartNew(
            () =>
            {
                var random = new Random(seed + thread);
                for (int round = 0; round < Rounds; round++)
                {
                    if (random.Next(4) == 0)
                    {
                        Thread.Yield();
                    }

                    budgets.Count(_options, Scene, context: null, tokens: 1);
                    rounds.SignalAndWait();
                    rounds.SignalAndWait();
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Null(failure);
    }

    [Fact]
    public void AddLlmGuard_gives_the_runtime_the_registered_budgets_hook()
    {
        var shared = new ScriptedBudgets();
        var services = new ServiceCollection();
        services.AddSingleton<IDistributedBudgets>(shared);
        services.AddLlmGuard();
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Same(shared, provider.GetRequiredService<GuardRuntime>().DistributedBudgets);
    }

    private GuardRuntime Runtime(IDistributedBudgets shared) =>
        new(_clock) { Options = _options, DistributedBudgets = shared, LoggerFactory = _loggerFactory };

    private ReportingAssistant Assistant(GuardRuntime runtime, long tokens) => new(runtime, (_, _) =>
    {
        Interlocked.Increment(ref _executions);
        LlmUsage.Report(tokens, 0);
        return Task.FromResult("ok");
    });

    // The view is stored just after the store answers, on the thread that received the answer.
    private static void AssertRefusedSoon(GuardRuntime runtime, string tenant)
    {
        using (LlmCallContext.Begin(tenant: tenant))
        {
            Assert.True(
                SpinWait.SpinUntil(() => runtime.Usage.TryAdmit(Scene, LlmCallContext.Current) is not null, s_bound),
                $"tenant {tenant} is still admitted");
        }
    }
}
