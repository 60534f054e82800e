using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Context;

/// <summary>How <see cref="LlmCallContext"/> scopes nest, flow through async code and stay apart between flows.</summary>
public sealed class LlmCallContextTests
{
    [Fact]
    public void Current_is_null_outside_any_scope()
    {
        Assert.Null(LlmCallContext.Current);
    }

    [Fact]
    public void Begin_makes_its_values_current_until_the_scope_is_disposed()
    {
        using (LlmCallContext.Begin(tenant: "t1", user: "u7", conversation: "c42", module: "tickets", requestId: "r1"))
        {
            LlmCallContext context = Assert.IsType<LlmCallContext>(LlmCallContext.Current);
            Assert.Equal(("t1", "u7", "c42", "tickets", "r1"), (context.Tenant, context.User, context.Conversation, context.Module, context.RequestId));
        }

        Assert.Null(LlmCallContext.Current);
    }

    [Fact]
    public void An_inner_scope_overrides_only_what_it_sets_and_its_disposal_restores_the_outer_context()
    {
        using LlmCallContextScope outer = LlmCallContext.Begin(tenant: "t1", user: "u7", module: "tickets");
        LlmCallContext outerContext = LlmCallContext.Current!;

        using (LlmCallContext.Begin(user: "u8", conversation: "c1"))
        {
            LlmCallContext inner = LlmCallContext.Current!;
            Assert.Equal(("t1", "u8", "c1", "tickets", (string?)null), (inner.Tenant, inner.User, inner.Conversation, inner.Module, inner.RequestId));
        }

        Assert.Same(outerContext, LlmCallContext.Current);
        Assert.Equal(("t1", "u7", (string?)null), (outerContext.Tenant, outerContext.User, outerContext.Conversation));
    }

    [Fact]
    public async Task The_context_flows_across_awaits_and_into_Task_Run()
    {
        using LlmCallContextScope scope = LlmCallContext.Begin(tenant: "t1");

        await Task.Yield();
        Assert.Equal("t1", LlmCallContext.Current?.Tenant);
        string? inTask = await Task.Run(async () =>
        {
            await Task.Yield();
            return LlmCallContext.Current?.Tenant;
        }).Within();

        Assert.Equal("t1", inTask);
        Assert.Equal("t1", LlmCallContext.Current?.Tenant);
    }

    [Fact]
    public async Task A_scope_begun_in_an_async_method_ends_with_it_and_never_reaches_the_caller()
    {
        static async Task<string?> InnerAsync()
        {
            using LlmCallContextScope scope = LlmCallContext.Begin(tenant: "inner");
            await Task.Yield();
            return LlmCallContext.Current?.Tenant;
        }

        using LlmCallContextScope outer = LlmCallContext.Begin(tenant: "outer");
        Assert.Equal("inner", await InnerAsync().Within());
        Assert.Equal("outer", LlmCallContext.Current?.Tenant);
    }

    [Fact]
    public void Disposing_the_outer_scope_first_ends_the_inner_one_too_and_the_inner_disposal_then_changes_nothing()
    {
        LlmCallContextScope outer = LlmCallContext.Begin(tenant: "outer");
        LlmCallContextScope inner = LlmCallContext.Begin(tenant: "inner");

        outer.Dispose();
        Assert.Null(LlmCallContext.Current);

        using LlmCallContextScope later = LlmCallContext.Begin(tenant: "later");
        inner.Dispose();
        Assert.Equal("later", LlmCallContext.Current?.Tenant);
    }

    [Fact]
    public void Disposing_a_scope_twice_or_a_default_scope_changes_nothing()
    {
        using LlmCallContextScope outer = LlmCallContext.Begin(tenant: "outer");
        LlmCallContextScope inner = LlmCallContext.Begin(tenant: "inner");
        inner.Dispose();
        using LlmCallContextScope later = LlmCallContext.Begin(tenant: "later");

        inner.Dispose();
        default(LlmCallContextScope).Dispose();

        Assert.Equal("later", LlmCallContext.Current?.Tenant);
    }

    [Fact]
    public async Task Disposing_a_scope_in_a_child_flow_ends_it_there_but_not_in_the_flow_that_began_it()
    {
        using LlmCallContextScope outer = LlmCallContext.Begin(tenant: "outer");
        LlmCallContextScope scope = LlmCallContext.Begin(tenant: "t1");

        string? inChildAfterDispose = await Task.Run(() =>
        {
            scope.Dispose();
            return LlmCallContext.Current?.Tenant;
        }).Within();

        Assert.Equal("outer", inChildAfterDispose);
        Assert.Equal("t1", LlmCallContext.Current?.Tenant);
        scope.Dispose();
        Assert.Equal("outer", LlmCallContext.Current?.Tenant);
    }

    [Fact]
    public void Scopes_open_at_the_same_time_on_different_threads_each_see_only_their_own_context()
    {
        const int threads = 8;
        using var allOpen = new Barrier(threads);
        using var allChecked = new Barrier(threads);
        var seen = new string?[threads];
        var afterwards = new LlmCallContext?[threads];
        Thread[] workers = Enumerable.Range(0, threads).Select(i => new Thread(() =>
        {
            using (LlmCallContext.Begin(tenant: "t" + i))
            {
                // Every thread's scope is open before any thread reads, and none closes before all have read.
                allOpen.SignalAndWait(TimeSpan.FromSeconds(10));
                seen[i] = LlmCallContext.Current?.Tenant;
                allChecked.SignalAndWait(TimeSpan.FromSeconds(10));
            }

            afterwards[i] = LlmCallContext.Current;
        })).ToArray();

        foreach (Thread worker in workers)
        {
            worker.Start();
        }

        foreach (Thread worker in workers)
        {
            Assert.True(worker.Join(TimeSpan.FromSeconds(10)));
        }

        Assert.Equal(Enumerable.Range(0, threads).Select(i => "t" + i), seen);
        Assert.All(afterwards, Assert.Null);
    }

    [Fact]
    public async Task Random_nesting_in_concurrent_flows_always_leaves_each_flow_with_its_own_innermost_scope()
    {
        const int flows = 8;
        const int steps = 300;
        using var start = new Barrier(flows);

        async Task RunFlow(int flow)
        {
            var random = new Random(7_919 * (flow + 1));
            var open = new Stack<(LlmCallContextScope Scope, string Tenant, string? User)>();
            start.SignalAndWait(TimeSpan.FromSeconds(10));
            for (int step = 0; step < steps; step++)
            {
                int action = random.Next(4);
                if (action == 0 || (action == 1 && open.Count == 0))
                {
                    string tenant = $"f{flow}s{step}";
                    string? user = random.Next(2) == 0 ? null : $"u{step}";
                    string? inherited = open.Count == 0 ? null : open.Peek().User;
                    open.Push((LlmCallContext.Begin(tenant: tenant, user: user), tenant, user ?? inherited));
                }
                else if (action == 1)
                {
                    open.Pop().Scope.Dispose();
                }
                else if (action == 2)
                {
                    await Task.Yield();
                }
                else
                {
                    // Another flow's disposals must not reach this one, and a nested flow starts from this one.
                    string? fromChild = await Task.Run(() => LlmCallContext.Current?.Tenant);
                    Assert.Equal(open.Count == 0 ? null : open.Peek().Tenant, fromChild);
                }

                LlmCallContext? current = LlmCallContext.Current;
                Assert.Equal(open.Count == 0 ? null : open.Peek().Tenant, current?.Tenant);
                Assert.Equal(open.Count == 0 ? null : open.Peek().User, current?.User);
            }

            while (open.Count > 0)
            {
                open.Pop().Scope.Dispose();
            }

            Assert.Null(LlmCallContext.Current);
        }

        Task[] running = Enumerable.Range(0, flows)
            .Select(flow => Task.Factory.StartNew(() => RunFlow(flow), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap())
            .ToArray();
        await Task.WhenAll(running).Within(30);
    }
}
