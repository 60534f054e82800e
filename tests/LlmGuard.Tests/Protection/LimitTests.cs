using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Protection;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Usage;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Protection;

/// <summary>Concurrency and rate limits of a scene: the bound, the queue, shedding past it, tenants and reloads.</summary>
public sealed class LimitTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedModel _model = new();

    [Fact]
    public async Task Past_the_queue_an_execution_is_rejected_at_once_and_queued_ones_run_in_order()
    {
        ProtectedDesk desk = Desk(s => { s.MaxConcurrency = 1; s.MaxQueue = 2; });

        Task<string> running = desk.AskAsync("1");
        ModelCall first = await _model.NextCallAsync();
        Task<string> queued2 = desk.AskAsync("2");
        Task<string> queued3 = desk.SummarizeAsync("3");
        Task<string> shed = desk.AskAsync("4");

        Assert.True(shed.IsCompleted);
        LlmLimitExceededException refusal = await Assert.ThrowsAsync<LlmLimitExceededException>(() => shed);
        Assert.Equal((ProtectedDesk.Scene, LlmLimitExceededException.Concurrency), (refusal.Scene, refusal.Limit));
        Assert.Equal(1, _model.Calls);

        first.Succeed("a1");
        ModelCall second = await _model.NextCallAsync();
        Assert.Equal("2", second.Prompt);
        second.Succeed("a2");
        ModelCall third = await _model.NextCallAsync();
        Assert.Equal("summary:3", third.Prompt);
        third.Succeed("a3");
        Assert.Equal(["a1", "a2", "a3"], await Task.WhenAll(running, queued2, queued3).Within());
    }

    [Fact]
    public async Task A_queued_execution_whose_caller_leaves_gives_its_place_up_and_never_reaches_the_core()
    {
        ProtectedDesk desk = Desk(s => { s.MaxConcurrency = 1; s.MaxQueue = 1; });
        Task<string> running = desk.AskAsync("1");
        ModelCall first = await _model.NextCallAsync();
        using var leaving = new CancellationTokenSource();
        Task<string> left = desk.AskAsync("2", leaving.Token);

        leaving.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => left.Within());

        // The place is free again: the next call queues instead of being shed.
        Task<string> queued = desk.AskAsync("3");
        Assert.False(queued.IsCompleted);
        first.Succeed("a1");
        ModelCall next = await _model.NextCallAsync();
        Assert.Equal("3", next.Prompt);
        next.Succeed("a3");
        Assert.Equal("a3", await queued.Within());
        Assert.Equal(2, _model.Calls);
    }

    [Fact]
    public async Task Tenants_have_independent_limits_when_the_scene_limits_each_tenant()
    {
        ProtectedDesk desk = Desk(s => { s.MaxConcurrency = 2; s.TenantMaxConcurrency = 1; });
        Task<string> tenantA = CallAs("a", "1");
        ModelCall first = await _model.NextCallAsync();

        LlmLimitExceededException refused = await Assert.ThrowsAsync<LlmLimitExceededException>(() => CallAs("a", "2").Within());
        Assert.Equal(LlmLimitExceededException.TenantConcurrency, refused.Limit);
        Task<string> tenantB = CallAs("b", "3");
        ModelCall other = await _model.NextCallAsync();
        Assert.Equal("3", other.Prompt);

        first.Succeed("a1");
        other.Succeed("b3");
        Assert.Equal(["a1", "b3"], await Task.WhenAll(tenantA, tenantB).Within());

        Task<string> CallAs(string tenant, string question)
        {
            using LlmCallContextScope scope = LlmCallContext.Begin(tenant: tenant);
            return desk.AskAsync(question);
        }
    }

    [Fact]
    public async Task Many_tenants_together_never_exceed_the_scene_bounds()
    {
        // Each tenant may have 2 in flight, but the scene runs 2 and queues 3 in all, whatever the number of tenants.
        ProtectedDesk desk = Desk(s => { s.MaxConcurrency = 2; s.MaxQueue = 3; s.TenantMaxConcurrency = 2; s.RateLimit = 1_000; s.TenantRateLimit = 100; });
        var calls = new List<Task<string>>();
        for (int tenant = 0; tenant < 50; tenant++)
        {
            using LlmCallContextScope scope = LlmCallContext.Begin(tenant: "t" + tenant);
            calls.Add(desk.AskAsync("q" + tenant));
        }

        Assert.Equal(45, calls.Count(c => c.IsFaulted && c.Exception!.InnerException is LlmLimitExceededException { Limit: LlmLimitExceededException.Concurrency }));
        for (int i = 0; i < 5; i++)
        {
            (await _model.NextCallAsync()).Succeed("a");
        }

        Assert.Equal(5, (await Task.WhenAll(calls.Where(c => !c.IsFaulted)).Within()).Length);
        Assert.Equal(5, _model.Calls);
    }

    [Fact]
    public async Task A_tenant_rate_limit_sheds_one_tenant_and_leaves_the_others_their_permits()
    {
        ProtectedDesk desk = Desk(s => { s.TenantRateLimit = 1; s.RateLimitWindowMs = 1_000; });
        Task<string> first = CallAs("a", "1");
        (await _model.NextCallAsync()).Succeed("a1");
        Assert.Equal("a1", await first.Within());

        LlmLimitExceededException refused = await Assert.ThrowsAsync<LlmLimitExceededException>(() => CallAs("a", "2").Within());
        Assert.Equal(LlmLimitExceededException.TenantRate, refused.Limit);

        Task<string> other = CallAs("b", "3");
        (await _model.NextCallAsync()).Succeed("b3");
        Assert.Equal("b3", await other.Within());

        Task<string> CallAs(string tenant, string question)
        {
            using LlmCallContextScope scope = LlmCallContext.Begin(tenant: tenant);
            return desk.AskAsync(question);
        }
    }

    [Fact]
    public async Task A_rate_limit_rejects_executions_past_its_window_without_waiting_and_its_window_runs_on_the_runtime_clock()
    {
        ProtectedDesk desk = Desk(s => { s.RateLimit = 2; s.RateLimitWindowMs = 1_000; });
        for (int i = 0; i < 2; i++)
        {
            Task<string> call = desk.AskAsync("q" + i);
            (await _model.NextCallAsync()).Succeed("a");
            await call.Within();
        }

        LlmLimitExceededException refusal = await Assert.ThrowsAsync<LlmLimitExceededException>(() => desk.AskAsync("q2").Within());
        Assert.Equal(LlmLimitExceededException.Rate, refusal.Limit);

        _time.Advance(TimeSpan.FromMilliseconds(999));
        await Assert.ThrowsAsync<LlmLimitExceededException>(() => desk.AskAsync("q3").Within());
        Assert.Equal(2, _model.Calls);

        // The next window starts on the runtime's clock, however little real time passed.
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Task<string> next = desk.AskAsync("q4");
        (await _model.NextCallAsync()).Succeed("b");
        Assert.Equal("b", await next.Within());
    }

    [Fact]
    public async Task A_protection_replaced_by_a_reload_disposes_its_limiters_once_its_executions_end()
    {
        var runtime = new GuardRuntime(_time) { Options = ProtectedDesk.Options(ProtectedDesk.Scene, s => { s.MaxConcurrency = 1; s.TenantMaxConcurrency = 1; }) };
        var desk = new ProtectedDesk(runtime, _model);
        Task<string> running = desk.AskAsync("running");
        ModelCall runningCall = await _model.NextCallAsync();
        SceneProtection first = runtime.Protections.Single();

        var replaced = new List<SceneProtection>();
        for (int queue = 1; queue <= 20; queue++)
        {
            runtime.Reconfigure(ProtectedDesk.Options(ProtectedDesk.Scene, s => { s.MaxConcurrency = 1; s.MaxQueue = queue; s.TenantMaxConcurrency = 1; }));
            Task<string> next = desk.AskAsync("q" + queue);
            (await _model.NextCallAsync()).Succeed("a");
            await next.Within();
            replaced.Add(runtime.Protections.Single());
        }

        // Each protection whose executions ended was disposed when the next reload retired it; the current one and the
        // first, whose execution still runs, were not.
        Assert.All(replaced.SkipLast(1), protection => Assert.True(protection.IsDisposed));
        Assert.False(replaced[^1].IsDisposed);
        Assert.False(first.IsDisposed);

        runningCall.Succeed("done");
        Assert.Equal("done", await running.Within());
        Assert.True(first.IsDisposed);
    }

    [Fact]
    public async Task Under_real_threads_reloads_that_retire_protections_never_fail_an_execution_on_a_disposed_limiter()
    {
        const int Threads = 4;
        const int PerThread = 250;
        var model = new GatedModel();
        model.Open();
        var runtime = new GuardRuntime(_time) { Options = ProtectedDesk.Options(GatedDesk.Scene, s => { s.MaxConcurrency = 2; s.MaxQueue = Threads * PerThread; }) };
        var desk = new GatedDesk(runtime, model);

        // Senders race a reloader that retires the scene's protection over and over, so executions enter protections
        // just as they are retired and leave them just as they become idle.
        var calls = new Task<string>[Threads * PerThread];
        Thread[] senders = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            for (int i = t; i < calls.Length; i += Threads)
            {
                calls[i] = desk.AskAsync("q" + i);
            }
        })).ToArray();
        var reloader = new Thread(() =>
        {
            for (int reload = 1; reload <= 200; reload++)
            {
                runtime.Reconfigure(ProtectedDesk.Options(GatedDesk.Scene, s => { s.MaxConcurrency = 2; s.MaxQueue = Threads * PerThread + reload; }));
            }
        });
        reloader.Start();
        Array.ForEach(senders, s => s.Start());
        Array.ForEach(senders, s => Assert.True(s.Join(TimeSpan.FromSeconds(30))));
        Assert.True(reloader.Join(TimeSpan.FromSeconds(30)));

        string[] answers = await Task.WhenAll(calls).Within(60);
        Assert.Equal(calls.Length, answers.Distinct().Count());
    }

    [Fact]
    public async Task Callers_who_join_an_execution_take_no_permit()
    {
        ProtectedDesk desk = Desk(s => { s.MaxConcurrency = 1; });
        Task<string>[] sameKey = Enumerable.Range(0, 5).Select(_ => desk.AskAsync("same")).ToArray();
        (await _model.NextCallAsync()).Succeed("shared");
        Assert.All(await Task.WhenAll(sameKey).Within(), answer => Assert.Equal("shared", answer));
        Assert.Equal(1, _model.Calls);
    }

    [Fact]
    public async Task A_reload_changes_the_limit_for_executions_that_start_after_it()
    {
        var runtime = new GuardRuntime(_time) { Options = ProtectedDesk.Options(ProtectedDesk.Scene, s => s.MaxConcurrency = 1) };
        var desk = new ProtectedDesk(runtime, _model);
        Task<string> first = desk.AskAsync("1");
        ModelCall running = await _model.NextCallAsync();
        await Assert.ThrowsAsync<LlmLimitExceededException>(() => desk.AskAsync("2").Within());

        runtime.Reconfigure(ProtectedDesk.Options(ProtectedDesk.Scene, s => s.MaxConcurrency = 2));
        Task<string> second = desk.AskAsync("3");
        ModelCall admitted = await _model.NextCallAsync();
        Assert.Equal("3", admitted.Prompt);

        runtime.Reconfigure(new LlmGuardOptions());
        Task<string> unlimited = desk.AskAsync("4");
        ModelCall free = await _model.NextCallAsync();

        running.Succeed("a");
        admitted.Succeed("b");
        free.Succeed("c");
        Assert.Equal(["a", "b", "c"], await Task.WhenAll(first, second, unlimited).Within());
    }

    [Fact]
    public async Task A_burst_of_ten_thousand_calls_is_shed_past_the_queue_and_every_call_gets_an_answer_or_a_rejection()
    {
        const int Calls = 10_000;
        const int MaxConcurrency = 10;
        const int MaxQueue = 100;
        var model = new GatedModel();
        using var meters = new TestMeterFactory();
        var logs = new FakeLogCollector();
        using ILoggerFactory loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Information).AddProvider(new FakeLoggerProvider(logs)));
        var runtime = new GuardRuntime(_time)
        {
            Options = ProtectedDesk.Options(GatedDesk.Scene, s => { s.MaxConcurrency = MaxConcurrency; s.MaxQueue = MaxQueue; }),
            MeterFactory = meters,
            LoggerFactory = loggerFactory,
        };
        using var rejections = new MetricCollector<long>(meters, "LlmGuard", "llmguard.rejections");
        var desk = new GatedDesk(runtime, model);

        // Four real threads issue the burst while nothing completes, so exactly the permits and the queue are admitted.
        var calls = new Task<string>[Calls];
        Thread[] senders = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            for (int i = t; i < Calls; i += 4)
            {
                calls[i] = desk.AskAsync("q" + i);
            }
        })).ToArray();
        Array.ForEach(senders, s => s.Start());
        Array.ForEach(senders, s => Assert.True(s.Join(TimeSpan.FromSeconds(30))));

        int shedAtOnce = calls.Count(c => c.IsFaulted && c.Exception!.InnerException is LlmLimitExceededException);
        Assert.Equal(Calls - MaxConcurrency - MaxQueue, shedAtOnce);
        Assert.Equal(MaxConcurrency, model.InCore);

        // One warning for the whole burst (the clock did not move); the refusals one by one are at Debug only.
        FakeLogRecord warning = Assert.Single(logs.GetSnapshot(), r => r.Id.Id == 18);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Id.Id == 19);

        // Ten seconds later the next refusal writes the next warning.
        _time.Advance(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<LlmLimitExceededException>(() => desk.AskAsync("late").Within());
        Assert.Equal(2, logs.GetSnapshot().Count(r => r.Id.Id == 18));

        model.Open();
        int answered = 0, rejected = 0;
        foreach (Task<string> call in calls)
        {
            try
            {
                await call.Within(30);
                answered++;
            }
            catch (LlmLimitExceededException)
            {
                rejected++;
            }
        }

        Assert.Equal((MaxConcurrency + MaxQueue, Calls - MaxConcurrency - MaxQueue), (answered, rejected));
        Assert.Equal(MaxConcurrency + MaxQueue, model.Calls);
        Assert.Equal(MaxConcurrency, model.MostInCore);
        Assert.Equal(rejected + 1, rejections.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.All(rejections.GetMeasurementSnapshot(), m => Assert.Equal("limit", m.Tags["llmguard.rejection.reason"]));
    }

    [Fact]
    public async Task Under_real_threads_no_more_executions_than_the_limit_run_at_once()
    {
        const int Threads = 8;
        const int PerThread = 200;
        var model = new GatedModel();
        model.Open();
        var desk = new GatedDesk(new GuardRuntime(_time) { Options = ProtectedDesk.Options(GatedDesk.Scene, s => { s.MaxConcurrency = 3; s.MaxQueue = Threads * PerThread; }) }, model);

        var calls = new Task<string>[Threads * PerThread];
        Thread[] senders = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            for (int i = t; i < calls.Length; i += Threads)
            {
                calls[i] = desk.AskAsync("q" + i);
            }
        })).ToArray();
        Array.ForEach(senders, s => s.Start());
        Array.ForEach(senders, s => Assert.True(s.Join(TimeSpan.FromSeconds(30))));

        string[] answers = await Task.WhenAll(calls).Within(60);
        Assert.Equal(calls.Length, answers.Distinct().Count());
        Assert.InRange(model.MostInCore, 1, 3);
    }

    private ProtectedDesk Desk(Action<LlmSceneOptions> configure) =>
        new(new GuardRuntime(_time) { Options = ProtectedDesk.Options(ProtectedDesk.Scene, configure) }, _model);
}

/// <summary>A model that holds every call until the test opens its gate, and counts how many calls it holds at once.</summary>
public sealed class GatedModel
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _calls;
    private int _inCore;
    private int _mostInCore;

    public int Calls => Volatile.Read(ref _calls);

    public int InCore => Volatile.Read(ref _inCore);

    public int MostInCore => Volatile.Read(ref _mostInCore);

    public void Open() => _gate.TrySetResult();

    public async Task<string> RespondAsync(string prompt, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        int now = Interlocked.Increment(ref _inCore);
        int most;
        while (now > (most = Volatile.Read(ref _mostInCore)) && Interlocked.CompareExchange(ref _mostInCore, now, most) != most)
        {
        }

        try
        {
            await _gate.Task.WaitAsync(cancellationToken).ConfigureAwait(false);

            // Always asynchronous, so calls overlap in the core even once the gate is open.
            await Task.Yield();
            return "answer:" + prompt;
        }
        finally
        {
            Interlocked.Decrement(ref _inCore);
        }
    }
}

/// <summary>A desk on <see cref="GatedModel"/>, in a scene of its own.</summary>
public partial class GatedDesk(GuardRuntime runtime, GatedModel model)
{
    public const string Scene = "protected_gated";

    [Guarded(Scene = Scene, Key = "{question}", TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> AskAsync(string question);

    private Task<string> AskCoreAsync(string question) => model.RespondAsync(question, CancellationToken.None);
}
