using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Tests.Fakes;
using LlmGuard.Usage;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Usage;

/// <summary>Token budgets stop runaway spending: once a period's tokens are spent, executions are rejected without running.</summary>
public sealed class BudgetTests
{
    private const int MaxIterations = 1_000;

    [Fact]
    public async Task A_runaway_loop_is_stopped_once_the_scene_budget_is_spent()
    {
        using var kit = new UsageTestKit(options => options.Budgets["chat-hourly"] = new LlmTokenBudget { Per = LlmBudgetScope.Scene, Scene = "chat", Tokens = 1_000, Period = TimeSpan.FromHours(1) });
        int executions = 0;
        var assistant = new ChatAssistant(kit.Runtime, (_, _) =>
        {
            Interlocked.Increment(ref executions);
            return Task.FromResult(UsageTestKit.Response("ok", input: 100, output: 20));
        });

        LlmBudgetExceededException? refusal = null;
        int iterations = 0;
        while (refusal is null && iterations < MaxIterations)
        {
            try
            {
                await assistant.AskAsync("question " + iterations++).Within();
            }
            catch (LlmBudgetExceededException exception)
            {
                refusal = exception;
            }
        }

        // 8 executions spend 960 tokens; the 9th is admitted and overshoots to 1080; the 10th call is rejected.
        Assert.NotNull(refusal);
        Assert.Equal("chat-hourly", refusal.Budget);
        Assert.Contains("chat-hourly", refusal.Message, StringComparison.Ordinal);
        Assert.Equal(9, executions);
        Assert.Equal(10, iterations);

        FakeLogRecord log = Assert.Single(kit.Logs.Collector.GetSnapshot(), record => record.Id.Id == 8);
        Assert.Equal("BudgetExceeded", log.Id.Name);
        Assert.Contains("chat-hourly", log.Message, StringComparison.Ordinal);
        Assert.Equal("rejected", (await kit.RecordsAsync()).Last().Result);
    }

    [Fact]
    public async Task A_rejected_call_gets_the_fallback_with_the_budget_exception_and_the_core_does_not_run()
    {
        using var kit = new UsageTestKit(options => options.Budgets["tiny"] = new LlmTokenBudget { Tokens = 1, Period = TimeSpan.FromMinutes(1) });
        int executions = 0;
        var assistant = new ChatAssistant(kit.Runtime, (_, _) =>
        {
            Interlocked.Increment(ref executions);
            return Task.FromResult(UsageTestKit.Response("model answer", input: 5, output: 5));
        });

        ChatResponse first = await assistant.AskWithFallbackAsync("a").Within();
        ChatResponse second = await assistant.AskWithFallbackAsync("b").Within();

        Assert.Equal("model answer", first.Text);
        Assert.Equal("fallback:" + nameof(LlmBudgetExceededException), second.Text);
        Assert.Equal(1, executions);
    }

    [Fact]
    public async Task The_budget_admits_executions_again_when_its_period_ends()
    {
        using var kit = new UsageTestKit(options => options.Budgets["chat-hourly"] = new LlmTokenBudget { Tokens = 100, Period = TimeSpan.FromHours(1) });
        var assistant = new ChatAssistant(kit.Runtime, (_, _) => Task.FromResult(UsageTestKit.Response("ok", input: 100, output: 0)));

        await assistant.AskAsync("a").Within();
        await Assert.ThrowsAsync<LlmBudgetExceededException>(() => assistant.AskAsync("b").Within());

        kit.Clock.Advance(TimeSpan.FromMinutes(59));
        await Assert.ThrowsAsync<LlmBudgetExceededException>(() => assistant.AskAsync("c").Within());

        kit.Clock.Advance(TimeSpan.FromMinutes(1));
        ChatResponse answer = await assistant.AskAsync("d").Within();
        Assert.Equal("ok", answer.Text);
    }

    [Fact]
    public async Task A_tenant_budget_stops_only_the_tenant_that_spent_it()
    {
        using var kit = new UsageTestKit(options => options.Budgets["per-tenant"] = new LlmTokenBudget { Per = LlmBudgetScope.Tenant, Tokens = 200, Period = TimeSpan.FromDays(1) });
        var assistant = new ChatAssistant(kit.Runtime, (_, _) => Task.FromResult(UsageTestKit.Response("ok", input: 150, output: 50)));

        using (LlmCallContext.Begin(tenant: "t1"))
        {
            await assistant.AskAsync("a").Within();
            LlmBudgetExceededException refusal = await Assert.ThrowsAsync<LlmBudgetExceededException>(() => assistant.AskAsync("b").Within());
            Assert.Equal("per-tenant", refusal.Budget);
        }

        using (LlmCallContext.Begin(tenant: "t2"))
        {
            Assert.Equal("ok", (await assistant.AskAsync("b").Within()).Text);
        }

        // A call made for no tenant is not limited by a tenant budget.
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("ok", (await assistant.AskAsync("untenanted " + i).Within()).Text);
        }
    }

    [Fact]
    public async Task A_budget_for_another_scene_does_not_limit_this_one()
    {
        using var kit = new UsageTestKit(options => options.Budgets["other"] = new LlmTokenBudget { Scene = "summaries", Tokens = 1, Period = TimeSpan.FromDays(1) });
        var assistant = new ChatAssistant(kit.Runtime, (_, _) => Task.FromResult(UsageTestKit.Response("ok", input: 100, output: 0)));

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("ok", (await assistant.AskAsync("q" + i).Within()).Text);
        }

        Assert.Equal(0, kit.Runtime.Usage.BudgetPartitionCount);
    }

    [Fact]
    public async Task Expired_periods_are_dropped_so_memory_stays_bounded()
    {
        using var kit = new UsageTestKit(options => options.Budgets["per-user"] = new LlmTokenBudget { Per = LlmBudgetScope.User, Tokens = 1_000, Period = TimeSpan.FromMinutes(1) });
        var assistant = new ChatAssistant(kit.Runtime, (_, _) => Task.FromResult(UsageTestKit.Response("ok", input: 1, output: 0)));

        for (int user = 0; user < 50; user++)
        {
            using (LlmCallContext.Begin(user: "u" + user))
            {
                await assistant.AskAsync("q").Within();
            }
        }

        Assert.Equal(50, kit.Runtime.Usage.BudgetPartitionCount);
        kit.Clock.Advance(TimeSpan.FromMinutes(1));
        using (LlmCallContext.Begin(user: "late"))
        {
            await assistant.AskAsync("q").Within();
        }

        Assert.Equal(1, kit.Runtime.Usage.BudgetPartitionCount);
    }

    [Fact]
    public async Task Concurrent_executions_count_every_token_into_the_budget()
    {
        // Through guarded calls: every completed execution's tokens reach the budget, none is lost on the way.
        const int Threads = 4;
        const int PerThread = 250;
        using var kit = new UsageTestKit(options => options.Budgets["shared"] = new LlmTokenBudget { Tokens = Threads * PerThread, Period = TimeSpan.FromDays(1) });
        var assistant = new ReportingAssistant(kit.Runtime, (_, _) =>
        {
            LlmUsage.Report(1, 0);
            return Task.FromResult("ok");
        });

        await RunConcurrentlyAsync(Threads, PerThread, (thread, i) => assistant.AskAsync($"t{thread}-{i}").GetAwaiter().GetResult());

        await Assert.ThrowsAsync<LlmBudgetExceededException>(() => assistant.AskAsync("one more").Within());
    }

    [Fact]
    public async Task Tokens_counted_from_many_threads_at_once_are_never_lost()
    {
        // Stress: a tight loop on every core makes a lost update (a count that is not atomic) likely; the budget's
        // edge shows the exact total: one token short admits, the last token refuses.
        const int Threads = 4;
        const int PerThread = 200_000;
        const long Total = Threads * PerThread;
        var options = new LlmGuardOptions();
        options.Budgets["shared"] = new LlmTokenBudget { Tokens = Total, Period = TimeSpan.FromDays(1) };
        var budgets = new TokenBudgets(new FakeTimeProvider());

        await RunConcurrentlyAsync(Threads, PerThread, (thread, i) =>
        {
            // One token short of the total, over every thread.
            if (thread != 0 || i != 0)
            {
                budgets.Count(options, "chat", context: null, tokens: 1);
            }
        });

        Assert.Null(budgets.TryAdmit(options, "chat", context: null));
        budgets.Count(options, "chat", context: null, tokens: 1);
        Assert.NotNull(budgets.TryAdmit(options, "chat", context: null));
    }

    private static async Task RunConcurrentlyAsync(int threads, int perThread, Action<int, int> step)
    {
        using var start = new Barrier(threads);
        Task[] workers = Enumerable.Range(0, threads).Select(thread => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait();
                for (int i = 0; i < perThread; i++)
                {
                    step(thread, i);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();
        await Task.WhenAll(workers).Within(60);
    }
}
