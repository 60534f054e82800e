using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Failures;
using LlmGuard.Hosting;
using LlmGuard.Profiles;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Telemetry;
using LlmGuard.Tests.Usage;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace LlmGuard.Tests.Profiles;

/// <summary>Each model's circuit breaker: a failing model is skipped, probed after its break, and a profile with every breaker open refuses at once.</summary>
[GuardBoundary("Tests call the profile directly to see which model each request reaches.")]
public sealed class ProfileBreakerTests
{
    private static readonly Func<Exception> s_unavailable = static () => new HttpRequestException("overloaded", null, HttpStatusCode.ServiceUnavailable);

    [Fact]
    public async Task A_failing_models_breaker_opens_and_later_requests_skip_it()
    {
        var a = new FakeModelClient("a") { Failure = s_unavailable };
        var b = new FakeModelClient("b");
        using var host = Host(a, b);
        LlmModelProfile profile = host.Profiles.Get("support");

        await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetResponseAsync("q"));
        Assert.Equal("b", (await profile.GetResponseAsync("q")).Text);
        await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetResponseAsync("q"));

        for (int i = 0; i < 6; i++)
        {
            Assert.Equal("b", (await profile.GetResponseAsync("q")).Text);
        }

        Assert.Equal(2, a.Requests);
        FakeLogRecord opened = Assert.Single(host.Logs.Collector.GetSnapshot(), log => log.Id.Id == 20);
        Assert.Equal("ProfileModelBreakerOpened", opened.Id.Name);
        Assert.Equal("The circuit breaker of model a of profile support opened; requests skip the model for 00:00:05", opened.Message);
        Assert.IsType<HttpRequestException>(opened.Exception);
    }

    [Fact]
    public async Task After_its_break_one_probe_reaches_the_model_while_other_requests_skip_it_and_a_good_probe_brings_it_back()
    {
        var a = new FakeModelClient("a") { Failure = s_unavailable };
        var b = new FakeModelClient("b");
        using var host = Host(a, b);
        LlmModelProfile profile = host.Profiles.Get("support");
        await OpenBreakerOfAAsync(profile);

        // The break has not passed: a is still skipped.
        host.Clock.Advance(TimeSpan.FromMilliseconds(4999));
        Assert.Equal("b", (await profile.GetResponseAsync("q")).Text);
        Assert.Equal("b", (await profile.GetResponseAsync("q")).Text);
        Assert.Equal(2, a.Requests);

        // Six requests so far, so the seventh starts its round at a and becomes the probe, held by the gate.
        host.Clock.Advance(TimeSpan.FromMilliseconds(1));
        a.Failure = null;
        a.Gated = true;
        Task<ChatResponse> probe = Task.Run(() => profile.GetResponseAsync("q"));
        PendingRequest held = await a.NextRequestAsync();

        // While the probe runs, requests from other threads go to b, even those whose round starts at a.
        ChatResponse[] others = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => profile.GetResponseAsync("q")))).Within();
        Assert.All(others, response => Assert.Equal("b", response.Text));
        Assert.Equal(3, a.Requests);

        held.Answer("a");
        Assert.Equal("a", (await probe.Within()).Text);
        Assert.Equal(CircuitState.Closed, profile.Plan.Models[0].BreakerState);
        a.Gated = false;
        string[] afterwards = [(await profile.GetResponseAsync("q")).Text, (await profile.GetResponseAsync("q")).Text];
        Assert.Equal(["a", "b"], afterwards.Order());
    }

    [Fact]
    public async Task Fifty_concurrent_requests_after_the_break_send_exactly_one_probe_to_the_model()
    {
        var a = new FakeModelClient("a") { Failure = s_unavailable };
        var b = new FakeModelClient("b");
        using var host = Host(a, b);
        LlmModelProfile profile = host.Profiles.Get("support");
        await OpenBreakerOfAAsync(profile);
        host.Clock.Advance(TimeSpan.FromMilliseconds(5000));
        a.Failure = null;
        a.Gated = true;

        // 50 threads released together; half of them start their round at a, and all see its break as over.
        using var start = new Barrier(50);
        Task<ChatResponse>[] requests = Enumerable.Range(0, 50).Select(_ => OnOwnThread(() =>
        {
            start.SignalAndWait(TimeSpan.FromSeconds(10));
            return profile.GetResponseAsync("q");
        })).ToArray();
        PendingRequest probe = await a.NextRequestAsync();
        ChatResponse[] answered = await WhenAllButOne(requests);

        Assert.Equal(49, answered.Count(response => response.Text == "b"));
        Assert.Equal(3, a.Requests);
        Task<ChatResponse> probing = requests.Single(r => !r.IsCompleted);
        probe.Answer("a");
        Assert.Equal("a", (await probing.Within()).Text);
    }

    [Fact]
    public async Task A_probe_its_caller_cancels_keeps_the_model_skipped_for_another_break()
    {
        var a = new FakeModelClient("a") { Failure = s_unavailable };
        var b = new FakeModelClient("b");
        using var host = Host(a, b);
        LlmModelProfile profile = host.Profiles.Get("support");
        await OpenBreakerOfAAsync(profile);
        host.Clock.Advance(TimeSpan.FromMilliseconds(5000));
        a.Failure = null;
        a.Gated = true;

        using var leaving = new CancellationTokenSource();
        Task<ChatResponse> probe = profile.GetResponseAsync("q", cancellationToken: leaving.Token);
        await a.NextRequestAsync();
        leaving.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => probe.Within());

        Assert.Equal(CircuitState.Open, profile.Plan.Models[0].BreakerState);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal("b", (await profile.GetResponseAsync("q")).Text);
        }

        Assert.Equal(3, a.Requests);
    }

    [Fact]
    public async Task A_stream_whose_model_fails_before_its_first_update_counts_against_the_model()
    {
        var a = new FakeModelClient("a") { Failure = s_unavailable };
        var b = new FakeModelClient("b");
        using var host = Host(a, b);
        LlmModelProfile profile = host.Profiles.Get("support");
        ChatMessage[] question = [new(ChatRole.User, "q")];

        await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetStreamingResponseAsync(question).ToChatResponseAsync());
        Assert.Equal("b:streamed", (await profile.GetStreamingResponseAsync(question).ToChatResponseAsync()).Text);
        await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetStreamingResponseAsync(question).ToChatResponseAsync());

        for (int i = 0; i < 4; i++)
        {
            Assert.Equal("b:streamed", (await profile.GetStreamingResponseAsync(question).ToChatResponseAsync()).Text);
        }

        Assert.Equal(2, a.Requests);
        Assert.All(profile.Plan.Models, model => Assert.Equal(0, model.InFlight));
    }

    [Fact]
    public async Task A_probe_that_fails_keeps_the_model_skipped_for_another_break()
    {
        var a = new FakeModelClient("a") { Failure = s_unavailable };
        var b = new FakeModelClient("b");
        using var host = Host(a, b);
        LlmModelProfile profile = host.Profiles.Get("support");
        await OpenBreakerOfAAsync(profile);

        host.Clock.Advance(TimeSpan.FromMilliseconds(5000));
        await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetResponseAsync("q"));
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal("b", (await profile.GetResponseAsync("q")).Text);
        }

        Assert.Equal(3, a.Requests);
    }

    [Fact]
    public async Task When_every_breaker_is_open_a_request_fails_at_once_with_the_profile_named()
    {
        var a = new FakeModelClient("a") { Failure = s_unavailable };
        using var host = Host(a);
        LlmModelProfile profile = host.Profiles.Get("support");
        await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetResponseAsync("q"));
        await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetResponseAsync("q"));

        LlmProfileUnavailableException refused = await Assert.ThrowsAsync<LlmProfileUnavailableException>(() => profile.GetResponseAsync("q"));

        Assert.Equal("support", refused.Profile);
        Assert.Equal(2, a.Requests);
        FakeLogRecord log = Assert.Single(host.Logs.Collector.GetSnapshot(), record => record.Id.Id == 21);
        Assert.Equal("ProfileUnavailable", log.Id.Name);
    }

    [Fact]
    public async Task A_guarded_methods_fallback_answers_when_every_model_of_its_profile_is_open()
    {
        var a = new FakeModelClient("a") { Failure = s_unavailable };
        var b = new FakeModelClient("b") { Failure = s_unavailable };
        using var host = Host(a, b);
        ProfiledAssistant assistant = host.Provider.GetRequiredService<ProfiledAssistant>();
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(ProfiledAssistant.BusyReply, await assistant.ReplyAsync("q" + i).Within());
            Assert.IsType<HttpRequestException>(assistant.LastFailure);
        }

        Assert.Equal(ProfiledAssistant.BusyReply, await assistant.ReplyAsync("last").Within());

        LlmProfileUnavailableException refused = Assert.IsType<LlmProfileUnavailableException>(assistant.LastFailure);
        Assert.Equal(ProfiledAssistant.Profile, refused.Profile);
        Assert.Equal(4, a.Requests + b.Requests);
    }

    [Fact]
    public async Task A_guarded_retry_after_a_transient_failure_goes_to_the_next_model()
    {
        var a = new FakeModelClient("a") { Failure = s_unavailable };
        var b = new FakeModelClient("b");
        using var host = Host(a, b);
        ProfiledAssistant assistant = host.Provider.GetRequiredService<ProfiledAssistant>();

        Assert.Equal("b", await assistant.ReplyWithRetryAsync("q").Within());

        Assert.Equal((1, 1), (a.Requests, b.Requests));
    }

    [Fact]
    public async Task Requests_their_callers_cancel_never_open_the_breaker()
    {
        var a = new FakeModelClient("a") { Gated = true };
        using var host = Host(a);
        LlmModelProfile profile = host.Profiles.Get("support");
        for (int i = 0; i < 5; i++)
        {
            using var leaving = new CancellationTokenSource();
            Task<ChatResponse> request = profile.GetResponseAsync("q", cancellationToken: leaving.Token);
            await a.NextRequestAsync();
            leaving.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request.Within());
        }

        Assert.Equal(CircuitState.Closed, profile.Plan.Models[0].BreakerState);
        Task<ChatResponse> next = profile.GetResponseAsync("q");
        (await a.NextRequestAsync()).Answer("a");
        Assert.Equal("a", (await next.Within()).Text);
    }

    [Fact]
    public async Task A_model_that_outlasts_the_profiles_timeout_counts_as_failed_and_its_breaker_opens()
    {
        var a = new FakeModelClient("a") { Gated = true };
        using var host = Host(new Dictionary<string, string?> { ["LlmGuard:Profiles:support:TimeoutMs"] = "100" }, a);
        LlmModelProfile profile = host.Profiles.Get("support");
        for (int i = 0; i < 2; i++)
        {
            Task<ChatResponse> request = profile.GetResponseAsync("q");
            PendingRequest held = await a.NextRequestAsync();
            host.Clock.Advance(TimeSpan.FromMilliseconds(99));
            Assert.False(held.Token.IsCancellationRequested);
            host.Clock.Advance(TimeSpan.FromMilliseconds(1));
            await Assert.ThrowsAsync<TimeoutRejectedException>(() => request.Within());
        }

        await Assert.ThrowsAsync<LlmProfileUnavailableException>(() => profile.GetResponseAsync("q"));
        Assert.Equal(2, a.Requests);
    }

    [Fact]
    public void A_profile_with_every_breaker_open_is_a_permanent_failure_even_inside_a_wrapper_or_to_a_classifier_that_retries_everything()
    {
        var refused = new LlmProfileUnavailableException("support", "every breaker is open");
        FailureClassifier retryEverything = _ => FailureClassification.Transient();

        Assert.Equal(FailureClassification.Permanent, FailureInspection.Classify(refused, retryEverything, TimeProvider.System));
        Assert.Equal(FailureClassification.Permanent, FailureInspection.Classify(new InvalidOperationException("core failed", refused), null, TimeProvider.System));
        Assert.False(TransientFailure.IsTransient(refused));
    }

    [Fact]
    public async Task A_refused_profile_is_answered_by_the_fallback_at_once_and_never_counted_by_the_scenes_breaker()
    {
        var a = new FakeModelClient("a") { Failure = s_unavailable };
        Dictionary<string, string?> settings = ProfileHost.Settings(ProfiledAssistant.Profile, "RoundRobin", "a");
        settings["LlmGuard:Profiles:support:BreakerMinimumThroughput"] = "2";
        settings[$"LlmGuard:Scenes:{ProfiledAssistant.Scene}:BreakerFailureRatio"] = "0.5";
        settings[$"LlmGuard:Scenes:{ProfiledAssistant.Scene}:TimeoutMs"] = "60000";
        settings[$"LlmGuard:Scenes:{ProfiledAssistant.Scene}:BreakerMinimumThroughput"] = "4";
        using var meters = new TestMeterFactory();
        using var host = new ProfileHost(settings, builder =>
        {
            builder.AddModelProfile(ProfiledAssistant.Profile);
            builder.Services.AddSingleton<IMeterFactory>(meters);

            // A team rule that retries everything must not turn the refusal into a retry.
            builder.Services.AddSingleton<FailureClassifier>(_ => FailureClassification.Transient());
        }, a);
        using var calls = new MetricCollector<long>(meters, "LlmGuard", "llmguard.calls");
        using var profileRequests = new MetricCollector<long>(meters, "LlmGuard", "llmguard.profile.requests");
        ProfiledAssistant assistant = host.Provider.GetRequiredService<ProfiledAssistant>();

        // Two failed attempts of the first call open the model's breaker: one failure in the scene's window.
        Assert.Equal(ProfiledAssistant.BusyReply, await assistant.ReplyWithRetryAsync("q").Within());
        Assert.IsType<HttpRequestException>(assistant.LastFailure);
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(ProfiledAssistant.BusyReply, await assistant.ReplyWithRetryAsync("q" + i).Within());
            Assert.IsType<LlmProfileUnavailableException>(assistant.LastFailure);
        }

        Assert.Equal(2, a.Requests);
        Assert.Equal(new Dictionary<string, long> { ["fallback"] = 7 }, Observed.Sum(calls, "llmguard.result"));
        Assert.Equal(new Dictionary<string, long> { ["error"] = 2, ["rejected"] = 6 }, Observed.Sum(profileRequests, "llmguard.result"));
    }

    [Fact]
    public async Task While_every_breaker_is_open_one_error_per_ten_seconds_counts_the_requests_refused()
    {
        var a = new FakeModelClient("a") { Failure = s_unavailable };
        using var host = Host(new Dictionary<string, string?> { ["LlmGuard:Profiles:support:BreakerBreakMs"] = "60000" }, a);
        LlmModelProfile profile = host.Profiles.Get("support");
        await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetResponseAsync("q"));
        await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetResponseAsync("q"));

        for (int i = 0; i < 3; i++)
        {
            await Assert.ThrowsAsync<LlmProfileUnavailableException>(() => profile.GetResponseAsync("q"));
        }

        host.Clock.Advance(TimeSpan.FromMilliseconds(9999));
        await Assert.ThrowsAsync<LlmProfileUnavailableException>(() => profile.GetResponseAsync("q"));
        host.Clock.Advance(TimeSpan.FromMilliseconds(1));
        await Assert.ThrowsAsync<LlmProfileUnavailableException>(() => profile.GetResponseAsync("q"));

        FakeLogRecord[] events = host.Logs.Collector.GetSnapshot().Where(log => log.Id.Id == 21).ToArray();
        Assert.Equal(["1", "4"], events.Select(log => log.GetStructuredStateValue("Rejected")));
        Assert.All(events, log => Assert.Equal(LogLevel.Error, log.Level));
        Assert.Equal(
            "Every model of profile support has an open circuit breaker: 4 requests were rejected without calling a model since this was last written",
            events[1].Message);
    }

    [Fact]
    public async Task Refusals_on_many_threads_while_the_clock_moves_are_each_counted_in_exactly_one_event()
    {
        const int Threads = 8;
        const int RefusalsPerThread = 300;
        var a = new FakeModelClient("a") { Failure = s_unavailable };
        using var host = Host(new Dictionary<string, string?> { ["LlmGuard:Profiles:support:BreakerBreakMs"] = "86400000" }, a);
        LlmModelProfile profile = host.Profiles.Get("support");
        await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetResponseAsync("q"));
        await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetResponseAsync("q"));

        // The clock jumps past the interval while refusals race to write the event and to take the count.
        using var start = new Barrier(Threads + 1);
        Task[] refusing = Enumerable.Range(0, Threads).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait(TimeSpan.FromSeconds(10));
            for (int i = 0; i < RefusalsPerThread; i++)
            {
                Assert.Throws<LlmProfileUnavailableException>(() => profile.GetResponseAsync("q").GetAwaiter().GetResult());
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        start.SignalAndWait(TimeSpan.FromSeconds(10));
        for (int i = 0; i < 50 && !refusing.All(t => t.IsCompleted); i++)
        {
            host.Clock.Advance(TimeSpan.FromSeconds(Random.Shared.Next(5, 15)));
            await Task.Yield();
        }

        await Task.WhenAll(refusing).Within(30);
        host.Clock.Advance(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<LlmProfileUnavailableException>(() => profile.GetResponseAsync("q"));

        long counted = host.Logs.Collector.GetSnapshot()
            .Where(log => log.Id.Id == 21)
            .Sum(log => long.Parse(log.GetStructuredStateValue("Rejected")!, CultureInfo.InvariantCulture));
        Assert.Equal((Threads * RefusalsPerThread) + 1, counted);
    }

    [Fact]
    public async Task A_failure_no_rule_recognises_counts_against_the_models_breaker_as_it_does_against_a_scenes()
    {
        var a = new FakeModelClient("a") { Failure = static () => new InvalidOperationException("the SDK failed") };
        var b = new FakeModelClient("b");
        using var host = Host(a, b);
        LlmModelProfile profile = host.Profiles.Get("support");

        await Assert.ThrowsAsync<InvalidOperationException>(() => profile.GetResponseAsync("q"));
        Assert.Equal("b", (await profile.GetResponseAsync("q")).Text);
        await Assert.ThrowsAsync<InvalidOperationException>(() => profile.GetResponseAsync("q"));

        Assert.Equal(CircuitState.Open, profile.Plan.Models[0].BreakerState);
    }

    [Fact]
    public async Task A_permanent_failure_is_the_requests_fault_and_never_opens_the_models_breaker()
    {
        var a = new FakeModelClient("a") { Failure = static () => new HttpRequestException("bad request", null, HttpStatusCode.BadRequest) };
        using var host = Host(a);
        LlmModelProfile profile = host.Profiles.Get("support");

        for (int i = 0; i < 5; i++)
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetResponseAsync("q"));
        }

        Assert.Equal(CircuitState.Closed, profile.Plan.Models[0].BreakerState);
        Assert.Equal(5, a.Requests);
    }

    [Fact]
    public async Task By_default_an_opened_breaker_probes_its_model_after_five_seconds_like_a_scenes()
    {
        var a = new FakeModelClient("a") { Failure = s_unavailable };
        Dictionary<string, string?> settings = ProfileHost.Settings(ProfiledAssistant.Profile, "RoundRobin", "a");
        settings["LlmGuard:Profiles:support:BreakerMinimumThroughput"] = "2";
        using var host = new ProfileHost(settings, builder => builder.AddModelProfile(ProfiledAssistant.Profile), a);
        LlmModelProfile profile = host.Profiles.Get("support");
        await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetResponseAsync("q"));
        await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetResponseAsync("q"));

        host.Clock.Advance(TimeSpan.FromMilliseconds(4999));
        await Assert.ThrowsAsync<LlmProfileUnavailableException>(() => profile.GetResponseAsync("q"));
        host.Clock.Advance(TimeSpan.FromMilliseconds(1));
        a.Failure = null;

        Assert.Equal("a", (await profile.GetResponseAsync("q")).Text);
        Assert.Equal(3, a.Requests);
    }

    [Fact]
    public async Task A_model_that_hangs_under_a_guarded_methods_default_timeout_times_out_at_twenty_seconds_and_opens_its_breaker()
    {
        var a = new FakeModelClient("a") { Gated = true };
        Dictionary<string, string?> settings = ProfileHost.Settings(ProfiledAssistant.Profile, "RoundRobin", "a");
        settings["LlmGuard:Profiles:support:BreakerMinimumThroughput"] = "2";
        using var host = new ProfileHost(settings, builder => builder.AddModelProfile(ProfiledAssistant.Profile), a);
        ProfiledAssistant assistant = host.Provider.GetRequiredService<ProfiledAssistant>();

        for (int i = 0; i < 2; i++)
        {
            Task<string> call = assistant.ReplyWithDefaultTimeoutAsync("q" + i);
            PendingRequest held = await a.NextRequestAsync();
            host.Clock.Advance(TimeSpan.FromMilliseconds(19_999));
            Assert.False(held.Token.IsCancellationRequested);
            host.Clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(ProfiledAssistant.BusyReply, await call.Within());
            Assert.IsType<TimeoutRejectedException>(assistant.LastFailure);
        }

        Assert.Equal(ProfiledAssistant.BusyReply, await assistant.ReplyWithDefaultTimeoutAsync("last").Within());
        Assert.IsType<LlmProfileUnavailableException>(assistant.LastFailure);
        Assert.Equal(2, a.Requests);
    }

    // Two failed requests to a (the first and third of a round-robin over a and b) meet the minimum throughput of 2 at
    // a failure ratio of 1.
    private static async Task OpenBreakerOfAAsync(LlmModelProfile profile)
    {
        await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetResponseAsync("q"));
        Assert.Equal("b", (await profile.GetResponseAsync("q")).Text);
        await Assert.ThrowsAsync<HttpRequestException>(() => profile.GetResponseAsync("q"));
        Assert.Equal("b", (await profile.GetResponseAsync("q")).Text);
        Assert.Equal(CircuitState.Open, profile.Plan.Models[0].BreakerState);
    }

    // Threads that block on a barrier get their own thread, so the pool's slow growth never stalls the test.
    private static Task<ChatResponse> OnOwnThread(Func<Task<ChatResponse>> send) =>
        Task.Factory.StartNew(send, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    // Every request but the probe, which the gate holds, completes on its own.
    private static async Task<ChatResponse[]> WhenAllButOne(Task<ChatResponse>[] requests)
    {
        var answered = new List<ChatResponse>();
        var pending = requests.ToList();
        while (answered.Count < requests.Length - 1)
        {
            Task<ChatResponse> done = await Task.WhenAny(pending).Within();
            pending.Remove(done);
            answered.Add(await done);
        }

        return answered.ToArray();
    }

    private static ProfileHost Host(params FakeModelClient[] models) => Host(new Dictionary<string, string?>(), models);

    private static ProfileHost Host(Dictionary<string, string?> extra, params FakeModelClient[] models)
    {
        Dictionary<string, string?> settings = ProfileHost.Settings(ProfiledAssistant.Profile, "RoundRobin", models.Select(m => m.Name).ToArray());
        settings["LlmGuard:Profiles:support:BreakerMinimumThroughput"] = "2";
        settings["LlmGuard:Profiles:support:BreakerFailureRatio"] = "0.5";
        settings["LlmGuard:Profiles:support:BreakerBreakMs"] = "5000";
        foreach (KeyValuePair<string, string?> setting in extra)
        {
            settings[setting.Key] = setting.Value;
        }

        return new ProfileHost(settings, builder => builder.AddModelProfile(ProfiledAssistant.Profile), models);
    }
}
