using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Protection;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Telemetry;
using LlmGuard.Tests.Usage;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Protection;

/// <summary>The circuit breaker of a scene: when it opens, what an open breaker answers, its single probe, and how it closes.</summary>
public sealed class CircuitBreakerTests : IDisposable
{
    private const int BreakMs = 5_000;

    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedModel _model = new();
    private readonly FakeLogCollector _logs = new();
    private readonly ILoggerFactory _loggerFactory;

    public CircuitBreakerTests()
    {
        _loggerFactory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(_logs)));
    }

    public void Dispose() => _loggerFactory.Dispose();

    [Fact]
    public async Task Failures_over_the_ratio_open_the_breaker_and_an_open_breaker_never_calls_the_core()
    {
        ProtectedDesk desk = Desk(ProtectedDesk.Scene);

        await FailAsync(desk, "a");
        await FailAsync(desk, "b");

        LlmCircuitOpenException refused = await Assert.ThrowsAsync<LlmCircuitOpenException>(() => desk.AskAsync("c").Within());
        Assert.Equal(ProtectedDesk.Scene, refused.Scene);
        Assert.Equal(2, _model.Calls);

        // Every method of the scene shares the breaker.
        await Assert.ThrowsAsync<LlmCircuitOpenException>(() => desk.SummarizeAsync("d").Within());
        Assert.Equal(2, _model.Calls);
        FakeLogRecord opened = Assert.Single(_logs.GetSnapshot(), r => r.Id.Id == 5);
        Assert.Equal(LogLevel.Warning, opened.Level);
        Assert.Contains(ProtectedDesk.Scene, opened.Message, StringComparison.Ordinal);
        Assert.Contains("00:00:05", opened.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_successful_probe_after_the_break_closes_the_breaker()
    {
        ProtectedDesk desk = Desk(ProtectedDesk.Scene);
        await FailAsync(desk, "a");
        await FailAsync(desk, "b");

        _time.Advance(TimeSpan.FromMilliseconds(BreakMs - 1));
        await Assert.ThrowsAsync<LlmCircuitOpenException>(() => desk.AskAsync("early").Within());
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Task<string> probe = desk.AskAsync("probe");
        (await _model.NextCallAsync()).Succeed("fine");
        Assert.Equal("fine", await probe.Within());

        Task<string> next = desk.AskAsync("next");
        (await _model.NextCallAsync()).Succeed("also fine");
        Assert.Equal("also fine", await next.Within());
        Assert.Equal([5, 6, 7], _logs.GetSnapshot().Where(r => r.Id.Id is 5 or 6 or 7).Select(r => r.Id.Id));
    }

    [Fact]
    public async Task A_failed_probe_opens_the_breaker_again_for_another_break()
    {
        ProtectedDesk desk = Desk(ProtectedDesk.Scene);
        await FailAsync(desk, "a");
        await FailAsync(desk, "b");
        _time.Advance(TimeSpan.FromMilliseconds(BreakMs));

        await FailAsync(desk, "probe");

        await Assert.ThrowsAsync<LlmCircuitOpenException>(() => desk.AskAsync("c").Within());
        Assert.Equal(3, _model.Calls);
        Assert.Equal([5, 6, 5], _logs.GetSnapshot().Where(r => r.Id.Id is 5 or 6 or 7).Select(r => r.Id.Id));
    }

    [Fact]
    public async Task A_probe_that_fails_permanently_opens_the_breaker_again_and_the_next_probe_can_close_it()
    {
        // Regression: Polly records no outcome for a failure its predicate does not handle, which left the breaker
        // half-open, refusing every execution, for good.
        ProtectedDesk desk = Desk(ProtectedDesk.Scene);
        await FailAsync(desk, "a");
        await FailAsync(desk, "b");
        _time.Advance(TimeSpan.FromMilliseconds(BreakMs));

        Task<string> probe = desk.AskAsync("probe");
        (await _model.NextCallAsync()).Fail(new HttpRequestException("bad request", null, System.Net.HttpStatusCode.BadRequest));
        await Assert.ThrowsAsync<HttpRequestException>(() => probe.Within());
        await Assert.ThrowsAsync<LlmCircuitOpenException>(() => desk.AskAsync("refused").Within());

        _time.Advance(TimeSpan.FromMilliseconds(BreakMs));
        Task<string> next = desk.AskAsync("next probe");
        (await _model.NextCallAsync()).Succeed("fine");
        Assert.Equal("fine", await next.Within());
        Assert.Equal([5, 6, 5, 6, 7], _logs.GetSnapshot().Where(r => r.Id.Id is 5 or 6 or 7).Select(r => r.Id.Id));
    }

    [Fact]
    public async Task A_probe_whose_callers_all_left_opens_the_breaker_again_rather_than_close_it()
    {
        ProtectedDesk desk = Desk(ProtectedDesk.Scene);
        await FailAsync(desk, "a");
        await FailAsync(desk, "b");
        _time.Advance(TimeSpan.FromMilliseconds(BreakMs));

        using var leaving = new CancellationTokenSource();
        Task<string> probe = desk.AskAsync("probe", leaving.Token);
        ModelCall attempt = await _model.NextCallAsync();
        leaving.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => probe.Within());

        // The abandoned probe's execution ends after its caller left; then the breaker opens again, not closed, and not
        // stuck half-open: after another break the next probe runs.
        await Eventually.Until(() => _logs.GetSnapshot().Count(r => r.Id.Id == 5) == 2, "the breaker opens again");
        await Assert.ThrowsAsync<LlmCircuitOpenException>(() => desk.AskAsync("c").Within());
        Assert.Equal(3, _model.Calls);
        _time.Advance(TimeSpan.FromMilliseconds(BreakMs));
        Task<string> next = desk.AskAsync("next probe");
        (await _model.NextCallAsync()).Succeed("fine");
        Assert.Equal("fine", await next.Within());
        Assert.Equal([5, 6, 5, 6, 7], _logs.GetSnapshot().Where(r => r.Id.Id is 5 or 6 or 7).Select(r => r.Id.Id));
    }

    [Fact]
    public async Task Permanent_failures_and_callers_who_leave_do_not_open_the_breaker()
    {
        ProtectedDesk desk = Desk(ProtectedDesk.Scene);
        for (int i = 0; i < 3; i++)
        {
            Task<string> call = desk.AskAsync("bad request " + i);
            (await _model.NextCallAsync()).Fail(new HttpRequestException("bad request", null, System.Net.HttpStatusCode.BadRequest));
            await Assert.ThrowsAsync<HttpRequestException>(() => call.Within());
        }

        for (int i = 0; i < 3; i++)
        {
            using var leaving = new CancellationTokenSource();
            Task<string> call = desk.AskAsync("left " + i, leaving.Token);
            ModelCall attempt = await _model.NextCallAsync();
            leaving.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.Within());
            await attempt.Ended;
        }

        Task<string> still = desk.AskAsync("still closed");
        (await _model.NextCallAsync()).Succeed("yes");
        Assert.Equal("yes", await still.Within());
    }

    [Fact]
    public async Task An_execution_its_caller_leaves_after_a_failed_attempt_counts_as_a_failure()
    {
        // At 0.75, one failure and one execution that counted as a success would leave the breaker closed.
        var runtime = new GuardRuntime(_time)
        {
            Options = ProtectedDesk.Options(ProtectedDesk.Scene, s => { Configure(s); s.BreakerFailureRatio = 0.75; }),
            LoggerFactory = _loggerFactory,
        };
        var desk = new ProtectedDesk(runtime, _model);
        await FailAsync(desk, "failed");

        // The caller gives up while the execution waits to retry its failed attempt, as callers do in an outage.
        using var leaving = new CancellationTokenSource();
        Task<string> abandoned = desk.AskWithRetryAsync("left after a failure", leaving.Token);
        (await _model.NextCallAsync()).Fail(new HttpRequestException("unavailable", null, System.Net.HttpStatusCode.ServiceUnavailable));
        await Eventually.Until(() => _logs.GetSnapshot().Any(r => r.Id.Id == 2), "the failed attempt's retry is scheduled");
        leaving.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned.Within());

        // The caller is answered at once; the execution ends, and the breaker counts it, when its retry pause is cancelled.
        await Eventually.Until(() => runtime.Protections.Single().BreakerState == SceneProtection.Open, "the abandoned execution opens the breaker");
        await Assert.ThrowsAsync<LlmCircuitOpenException>(() => desk.AskAsync("refused").Within());
        Assert.Equal(2, _model.Calls);
    }

    [Fact]
    public async Task Half_open_breaker_lets_exactly_one_of_fifty_concurrent_callers_reach_the_core()
    {
        ProtectedDesk desk = Desk(ProtectedDesk.Scene);
        await FailAsync(desk, "a");
        await FailAsync(desk, "b");
        _time.Advance(TimeSpan.FromMilliseconds(BreakMs));

        // Real threads (not pool threads, which a blocking barrier would starve), released together, each with its own
        // key so that no singleflight joins them.
        using var start = new Barrier(50);
        var calls = new Task<string>[50];
        Thread[] threads = Enumerable.Range(0, 50)
            .Select(i => new Thread(() =>
            {
                start.SignalAndWait(TimeSpan.FromSeconds(10));
                calls[i] = desk.AskAsync("q" + i);
            }))
            .ToArray();
        Array.ForEach(threads, thread => thread.Start());
        Array.ForEach(threads, thread => Assert.True(thread.Join(TimeSpan.FromSeconds(10))));

        ModelCall probe = await _model.NextCallAsync();
        int prober = int.Parse(probe.Prompt.AsSpan(1), provider: null);
        foreach (Task<string> refused in calls.Where((_, i) => i != prober))
        {
            await Assert.ThrowsAsync<LlmCircuitOpenException>(() => refused.Within());
        }

        Assert.Equal(3, _model.Calls);
        probe.Succeed("recovered");
        Assert.Equal("recovered", await calls[prober].Within());
    }

    [Fact]
    public async Task An_open_breaker_answers_with_the_fallback_counted_as_rejected()
    {
        using var meters = new TestMeterFactory();
        ProtectedDesk desk = Desk(ProtectedDesk.FallbackScene, meters);
        using var calls = new MetricCollector<long>(meters, "LlmGuard", "llmguard.calls");
        using var rejections = new MetricCollector<long>(meters, "LlmGuard", "llmguard.rejections");
        using var state = new MetricCollector<int>(meters, "LlmGuard", "llmguard.breaker.state");

        for (int i = 0; i < 2; i++)
        {
            Task<string> failing = desk.AskOrBusyAsync("f" + i);
            (await _model.NextCallAsync()).Fail(new TimeoutException());
            Assert.Equal(ProtectedDesk.BusyReply, await failing.Within());
        }

        Assert.Equal(ProtectedDesk.BusyReply, await desk.AskOrBusyAsync("refused").Within());

        Assert.Equal(2, _model.Calls);
        Assert.Equal(new Dictionary<string, long> { ["fallback"] = 2, ["rejected"] = 1 }, Observed.Sum(calls, "llmguard.result"));
        CollectedMeasurement<long> rejection = Assert.Single(rejections.GetMeasurementSnapshot());
        Assert.Equal("breaker", rejection.Tags["llmguard.rejection.reason"]);
        Assert.Equal(ProtectedDesk.FallbackScene, rejection.Tags["llmguard.scene"]);
        state.RecordObservableInstruments();
        CollectedMeasurement<int> open = Assert.Single(state.GetMeasurementSnapshot());
        Assert.Equal(SceneProtection.Open, open.Value);
        Assert.Equal(ProtectedDesk.FallbackScene, Assert.Single(open.Tags).Value);

        // Telemetry must not change what an unobserved call gets: the same refusal, the same fallback.
        ProtectedDesk unobserved = new(new GuardRuntime(_time) { Options = Breaker(ProtectedDesk.FallbackScene) }, _model);
        for (int i = 0; i < 2; i++)
        {
            Task<string> failing = unobserved.AskOrBusyAsync("u" + i);
            (await _model.NextCallAsync()).Fail(new TimeoutException());
            await failing.Within();
        }

        Assert.Equal(ProtectedDesk.BusyReply, await unobserved.AskOrBusyAsync("refused").Within());
        Assert.Equal(4, _model.Calls);
    }

    [Fact]
    public async Task A_refusal_raised_inside_the_core_is_a_failure_of_the_execution_not_a_rejection_of_its_scene()
    {
        using var meters = new TestMeterFactory();
        ProtectedDesk desk = Desk(ProtectedDesk.FallbackScene, meters);
        using var calls = new MetricCollector<long>(meters, "LlmGuard", "llmguard.calls");
        using var rejections = new MetricCollector<long>(meters, "LlmGuard", "llmguard.rejections");

        // Another guarded method the core calls is refused by its own breaker; an HttpClient's resilience handler has
        // a breaker of its own.
        Exception[] fromTheCore = [new LlmCircuitOpenException("another_scene"), new Polly.CircuitBreaker.BrokenCircuitException()];
        foreach (Exception failure in fromTheCore)
        {
            Task<string> call = desk.AskOrBusyAsync(failure.GetType().Name);
            (await _model.NextCallAsync()).Fail(failure);
            Assert.Equal(ProtectedDesk.BusyReply, await call.Within());
        }

        Assert.Equal(new Dictionary<string, long> { ["fallback"] = 2 }, Observed.Sum(calls, "llmguard.result"));
        Assert.Empty(rejections.GetMeasurementSnapshot());
        Assert.Equal(2, _logs.GetSnapshot().Count(r => r.Id.Id == 4));

        // Both were failures of this scene's model path: its breaker opened on them.
        Assert.Equal(ProtectedDesk.BusyReply, await desk.AskOrBusyAsync("refused").Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal("breaker", Assert.Single(rejections.GetMeasurementSnapshot()).Tags["llmguard.rejection.reason"]);
    }

    [Fact]
    public async Task A_breaker_exception_from_inside_the_core_reaches_the_caller_as_it_is_on_the_unobserved_path()
    {
        var desk = new ProtectedDesk(new GuardRuntime(_time) { Options = Breaker(ProtectedDesk.Scene) }, _model);
        var inner = new Polly.CircuitBreaker.BrokenCircuitException();

        Task<string> call = desk.AskAsync("a");
        (await _model.NextCallAsync()).Fail(inner);

        Assert.Same(inner, await Assert.ThrowsAsync<Polly.CircuitBreaker.BrokenCircuitException>(() => call.Within()));
    }

    [Fact]
    public async Task A_reload_of_other_settings_keeps_the_breaker_open_and_a_reload_of_its_settings_builds_a_closed_one()
    {
        var runtime = new GuardRuntime(_time) { Options = Breaker(ProtectedDesk.Scene) };
        var desk = new ProtectedDesk(runtime, _model);
        await FailAsync(desk, "a");
        await FailAsync(desk, "b");

        runtime.Reconfigure(ProtectedDesk.Options(ProtectedDesk.Scene, s => { Configure(s); s.TimeoutMs = 2_000; }));
        await Assert.ThrowsAsync<LlmCircuitOpenException>(() => desk.AskAsync("c").Within());

        runtime.Reconfigure(ProtectedDesk.Options(ProtectedDesk.Scene, s => { Configure(s); s.BreakerFailureRatio = 0.9; }));
        Task<string> call = desk.AskAsync("d");
        (await _model.NextCallAsync()).Succeed("closed");
        Assert.Equal("closed", await call.Within());
    }

    [Fact]
    public async Task An_open_breaker_stays_open_when_a_reload_raises_the_scene_limits()
    {
        var runtime = new GuardRuntime(_time) { Options = ProtectedDesk.Options(ProtectedDesk.Scene, s => { Configure(s); s.MaxConcurrency = 4; s.MaxQueue = 10; }) };
        var desk = new ProtectedDesk(runtime, _model);
        await FailAsync(desk, "a");
        await FailAsync(desk, "b");

        // An operator raises the queue during the outage: the breaker keeping the model's load off stays open.
        runtime.Reconfigure(ProtectedDesk.Options(ProtectedDesk.Scene, s => { Configure(s); s.MaxConcurrency = 4; s.MaxQueue = 500; }));

        await Assert.ThrowsAsync<LlmCircuitOpenException>(() => desk.AskAsync("c").Within());
        Assert.Equal(2, _model.Calls);
    }

    private static void Configure(LlmSceneOptions scene)
    {
        scene.BreakerFailureRatio = 0.5;
        scene.BreakerMinimumThroughput = 2;
        scene.BreakerSamplingMs = 10_000;
        scene.BreakerBreakMs = BreakMs;
    }

    private static LlmGuardOptions Breaker(string scene) => ProtectedDesk.Options(scene, Configure);

    private ProtectedDesk Desk(string scene, IMeterFactory? meters = null) =>
        new(new GuardRuntime(_time) { Options = Breaker(scene), LoggerFactory = _loggerFactory, MeterFactory = meters }, _model);

    private async Task FailAsync(ProtectedDesk desk, string question)
    {
        Task<string> call = desk.AskAsync(question);
        (await _model.NextCallAsync()).Fail(new HttpRequestException("unavailable", null, System.Net.HttpStatusCode.ServiceUnavailable));
        await Assert.ThrowsAsync<HttpRequestException>(() => call.Within());
    }
}
