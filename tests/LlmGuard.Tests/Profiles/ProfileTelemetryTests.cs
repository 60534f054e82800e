using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using LlmGuard.Hosting;
using LlmGuard.Profiles;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Usage;
using LlmGuard.Usage;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace LlmGuard.Tests.Profiles;

/// <summary>The model a profile chose is what the guarded execution around it reports, even when the core returns only text.</summary>
public sealed class ProfileTelemetryTests
{
    private static readonly Dictionary<string, string?> s_settings = new()
    {
        ["LlmGuard:Profiles:support:Models:0:Client"] = "a",
        ["LlmGuard:Profiles:support:Models:0:Model"] = "gpt-4o-mini",
    };

    [Fact]
    public async Task The_usage_record_of_a_guarded_execution_names_the_model_the_profile_chose()
    {
        using var host = new ProfileHost(
            s_settings, builder => builder.AddModelProfile(ProfiledAssistant.Profile).AddUsageSink<CollectingSink>(), new FakeModelClient("a"));
        GuardRuntime runtime = host.Provider.GetRequiredService<GuardRuntime>();

        Assert.Equal("a", await host.Provider.GetRequiredService<ProfiledAssistant>().ReplyAsync("q").Within());
        await runtime.Usage.FlushAsync().Within();

        var sink = (CollectingSink)host.Provider.GetServices<ILlmUsageSink>().Single();
        LlmUsageRecord record = Assert.Single(sink.Records);
        Assert.Equal(ProfiledAssistant.Scene, record.Scene);
        Assert.Equal("gpt-4o-mini", record.Model);
    }

    [Fact]
    public async Task The_attempt_activity_carries_the_model_the_profile_chose()
    {
        var stopped = new ConcurrentQueue<Activity>();
        ActivityTraceId traceId;
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "LlmGuard" or nameof(ProfileTelemetryTests),
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using var host = new ProfileHost(s_settings, builder => builder.AddModelProfile(ProfiledAssistant.Profile), new FakeModelClient("a"));

        // Tests running in parallel use the same scene: this test's activities are those of its own trace.
        using var source = new ActivitySource(nameof(ProfileTelemetryTests));
        using (Activity test = source.StartActivity("test")!)
        {
            await host.Provider.GetRequiredService<ProfiledAssistant>().ReplyAsync("q").Within();
            traceId = test.TraceId;
        }

        Activity attempt = Assert.Single(stopped, a => a.OperationName == "llmguard.attempt" && a.TraceId == traceId);
        Assert.Equal("gpt-4o-mini", attempt.GetTagItem("gen_ai.request.model"));
    }
    [Fact]
    [GuardBoundary("The test calls the profile directly to move one model's breaker through its states.")]
    public async Task The_breaker_state_gauge_and_the_closed_event_follow_a_models_breaker_through_open_half_open_and_closed()
    {
        var a = new FakeModelClient("a") { Failure = static () => new HttpRequestException("overloaded", null, HttpStatusCode.ServiceUnavailable) };
        var b = new FakeModelClient("b");
        Dictionary<string, string?> settings = ProfileHost.Settings(ProfiledAssistant.Profile, "RoundRobin", "a", "b");
        settings["LlmGuard:Profiles:support:Models:0:Model"] = "gpt-4o-mini";
        settings["LlmGuard:Profiles:support:BreakerMinimumThroughput"] = "2";
        using var meters = new TestMeterFactory();
        using var host = new ProfileHost(
            settings, builder => builder.AddModelProfile(ProfiledAssistant.Profile).Services.AddSingleton<IMeterFactory>(meters), a, b);
        using var state = new MetricCollector<int>(meters, "LlmGuard", "llmguard.profile.breaker.state");
        LlmModelProfile profile = host.Profiles.Get(ProfiledAssistant.Profile);

        Assert.Equal([("gpt-4o-mini", 0), ("b", 0)], Observe(state));

        await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetResponseAsync("q"));
        Assert.Equal("b", (await profile.GetResponseAsync("q")).Text);
        await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetResponseAsync("q"));
        Assert.Equal([("gpt-4o-mini", 2), ("b", 0)], Observe(state));

        // After the break the next request whose round starts at a probes it; the gate holds the probe.
        host.Clock.Advance(TimeSpan.FromMilliseconds(LlmModelProfileOptions.DefaultBreakerBreakMs));
        a.Failure = null;
        a.Gated = true;
        Assert.Equal("b", (await profile.GetResponseAsync("q")).Text);
        Task<ChatResponse> probe = profile.GetResponseAsync("q");
        PendingRequest held = await a.NextRequestAsync();
        Assert.Equal([("gpt-4o-mini", 1), ("b", 0)], Observe(state));
        Assert.DoesNotContain(host.Logs.Collector.GetSnapshot(), log => log.Id.Id == 24);

        held.Answer("a");
        Assert.Equal("a", (await probe.Within()).Text);
        Assert.Equal([("gpt-4o-mini", 0), ("b", 0)], Observe(state));
        FakeLogRecord closed = Assert.Single(host.Logs.Collector.GetSnapshot(), log => log.Id.Id == 24);
        Assert.Equal("ProfileModelBreakerClosed", closed.Id.Name);
        Assert.Equal(LogLevel.Information, closed.Level);
        Assert.Equal(
            "The circuit breaker of model gpt-4o-mini of profile support closed after a successful probe; requests reach the model again",
            closed.Message);
    }

    private static (string Model, int State)[] Observe(MetricCollector<int> gauge)
    {
        gauge.RecordObservableInstruments();
        return gauge.GetMeasurementSnapshot(clear: true)
            .Select(m =>
            {
                Assert.Equal(ProfiledAssistant.Profile, m.Tags["llmguard.profile"]);
                return ((string)m.Tags["gen_ai.request.model"]!, m.Value);
            })
            .ToArray();
    }
}
