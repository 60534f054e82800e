using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Hosting;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Usage;
using LlmGuard.Usage;
using Microsoft.Extensions.DependencyInjection;

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
}
