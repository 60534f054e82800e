using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Hosting;
using LlmGuard.Profiles;
using LlmGuard.Tests.Fakes;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;

namespace LlmGuard.Tests.Profiles;

/// <summary>Profiles in a container: keyed resolution, configuration and code settings, validation, reload, model ids and streaming.</summary>
[GuardBoundary("Tests call the profile directly to see which model each request reaches.")]
public sealed class ProfileHostingTests
{
    [Fact]
    public async Task A_profile_added_by_name_is_the_keyed_chat_client_of_that_name_and_a_guarded_core_receives_it()
    {
        var a = new FakeModelClient("a");
        using var host = new ProfileHost(
            new Dictionary<string, string?>(),
            builder => builder.AddModelProfile(ProfiledAssistant.Profile, profile => profile.Models.Add(new LlmProfileModelOptions { Client = "a" })),
            a);

        IChatClient keyed = host.Provider.GetRequiredKeyedService<IChatClient>(ProfiledAssistant.Profile);

        Assert.Same(host.Profiles.Get(ProfiledAssistant.Profile), keyed);
        Assert.Equal("a", await host.Provider.GetRequiredService<ProfiledAssistant>().ReplyAsync("q").Within());
        Assert.Equal(1, a.Requests);
    }

    [Fact]
    public void Configuration_binds_the_strategy_models_and_breaker_settings_and_code_settings_apply_after_it()
    {
        var settings = new Dictionary<string, string?>
        {
            ["LlmGuard:Profiles:normal:Strategy"] = "LeastInFlight",
            ["LlmGuard:Profiles:normal:Models:0:Client"] = "a",
            ["LlmGuard:Profiles:normal:Models:0:Model"] = "gpt-4o-mini",
            ["LlmGuard:Profiles:normal:Models:1:Client"] = "b",
            ["LlmGuard:Profiles:normal:BreakerFailureRatio"] = "0.25",
            ["LlmGuard:Profiles:normal:BreakerMinimumThroughput"] = "20",
            ["LlmGuard:Profiles:normal:BreakerSamplingMs"] = "60000",
            ["LlmGuard:Profiles:normal:BreakerBreakMs"] = "15000",
            ["LlmGuard:Profiles:normal:TimeoutMs"] = "800",
        };
        using var host = new ProfileHost(settings, builder => builder.AddModelProfile("normal", profile => profile.BreakerBreakMs = 20000), new("a"), new("b"));

        LlmModelProfileOptions normal = host.Provider.GetRequiredService<IOptions<LlmGuardOptions>>().Value.Profiles["normal"];

        Assert.Equal(LlmProfileStrategy.LeastInFlight, normal.Strategy);
        Assert.Equal([("a", "gpt-4o-mini"), ("b", null)], normal.Models.Select(m => (m.Client, m.Model)));
        Assert.Equal((0.25, 20, 60000, 20000, 800), (normal.BreakerFailureRatio, normal.BreakerMinimumThroughput, normal.BreakerSamplingMs, normal.BreakerBreakMs, normal.TimeoutMs));
        Assert.Equal(["gpt-4o-mini", "b"], host.Profiles.Get("normal").Plan.Models.Select(m => m.Name));
    }

    [Theory]
    [InlineData("LlmGuard:Profiles:fast:BreakerFailureRatio", "0", "LlmGuard:Profiles:fast:BreakerFailureRatio is 0, out of range; allowed: above 0, up to 1.")]
    [InlineData("LlmGuard:Profiles:fast:BreakerFailureRatio", "1.5", "LlmGuard:Profiles:fast:BreakerFailureRatio is 1.5, out of range; allowed: above 0, up to 1.")]
    [InlineData("LlmGuard:Profiles:fast:BreakerMinimumThroughput", "1", "LlmGuard:Profiles:fast:BreakerMinimumThroughput is 1, out of range; allowed: 2 to 2147483647.")]
    [InlineData("LlmGuard:Profiles:fast:BreakerSamplingMs", "499", "LlmGuard:Profiles:fast:BreakerSamplingMs is 499, out of range; allowed: 500 to 86400000.")]
    [InlineData("LlmGuard:Profiles:fast:BreakerBreakMs", "86400001", "LlmGuard:Profiles:fast:BreakerBreakMs is 86400001, out of range; allowed: 500 to 86400000.")]
    [InlineData("LlmGuard:Profiles:fast:TimeoutMs", "5", "LlmGuard:Profiles:fast:TimeoutMs is 5, out of range; allowed: 0 (no timeout) or 10 to 86400000.")]
    [InlineData("LlmGuard:Profiles:fast:Strategy", "7", "LlmGuard:Profiles:fast:Strategy is 7; allowed: RoundRobin, LeastInFlight.")]
    [InlineData("LlmGuard:Profiles:fast:BreakMs", "100", "LlmGuard:Profiles:fast:BreakMs is not a profile setting; the keys are Strategy, Models, BreakerFailureRatio, BreakerMinimumThroughput, BreakerSamplingMs, BreakerBreakMs, TimeoutMs.")]
    [InlineData("LlmGuard:Profiles:fast:Models:0:Key", "a", "LlmGuard:Profiles:fast:Models:0:Key is not a model setting; the keys are Client, Model.")]
    [InlineData("LlmGuard:Profiles:fast:Models:0:Client", "gpt-5", "LlmGuard:Profiles:fast:Models:0:Client is 'gpt-5', but no IChatClient is registered with that key; register it with AddKeyedSingleton<IChatClient>(\"gpt-5\", ...).")]
    [InlineData("LlmGuard:Profiles:fast:Models:0:Client", "fast", "LlmGuard:Profiles:fast:Models:0:Client is 'fast', the name of a profile; allowed: the key of a keyed IChatClient that is not a profile.")]
    [InlineData("LlmGuard:Profiles:fast:Models:0:Client", null, "LlmGuard:Profiles:fast:Models:0:Client is not set, so the unkeyed IChatClient answers, but none is registered; register one or set Client to a keyed IChatClient's key.")]
    public void Start_up_validation_names_the_profile_the_key_and_what_is_allowed(string key, string? value, string message)
    {
        Dictionary<string, string?> settings = ProfileHost.Settings("fast", "RoundRobin", "a");
        settings[key] = value;
        if (value is null)
        {
            settings.Remove(key);
            settings["LlmGuard:Profiles:fast:Models:0:Model"] = "gpt-4o-mini";
        }

        using var host = new ProfileHost(settings, null, new FakeModelClient("a"));

        OptionsValidationException failure = Assert.Throws<OptionsValidationException>(() => host.Provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal(message, Assert.Single(failure.Failures));
    }

    [Fact]
    public void A_profile_added_in_code_but_configured_nowhere_fails_start_up_instead_of_its_first_request()
    {
        using var host = new ProfileHost(new Dictionary<string, string?>(), builder => builder.AddModelProfile("fast"));

        OptionsValidationException failure = Assert.Throws<OptionsValidationException>(() => host.Provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal("LlmGuard:Profiles:fast:Models has 0 models; allowed: 1 to 64.", Assert.Single(failure.Failures));
    }

    [Fact]
    public void Each_profile_describes_itself_by_its_name_so_middleware_above_tells_two_profiles_apart()
    {
        Dictionary<string, string?> settings = ProfileHost.Settings("fast", "RoundRobin", "a");
        foreach ((string key, string? value) in ProfileHost.Settings("careful", "RoundRobin", "a"))
        {
            settings[key] = value;
        }

        using var host = new ProfileHost(settings, null, new FakeModelClient("a"));

        ChatClientMetadata? fast = host.Profiles.Get("fast").GetService<ChatClientMetadata>();
        ChatClientMetadata? careful = host.Profiles.Get("careful").GetService<ChatClientMetadata>();

        Assert.Equal(("llmguard-profile", "fast"), (fast?.ProviderName, fast?.DefaultModelId));
        Assert.Equal(("llmguard-profile", "careful"), (careful?.ProviderName, careful?.DefaultModelId));
        Assert.Null(host.Profiles.Get("fast").GetService<ChatClientMetadata>("a key"));
    }

    [Fact]
    public void Asking_for_a_profile_nobody_configured_names_the_configured_ones()
    {
        using var host = new ProfileHost(ProfileHost.Settings("fast", "RoundRobin", "a"), null, new FakeModelClient("a"));

        InvalidOperationException failure = Assert.Throws<InvalidOperationException>(() => host.Profiles.Get("slow"));

        Assert.StartsWith("No model profile is named 'slow'; the profiles are fast.", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reload_moves_new_requests_to_the_new_models_while_a_request_in_flight_finishes_on_its_model()
    {
        var a = new FakeModelClient("a") { Gated = true };
        var b = new FakeModelClient("b");
        using var host = new ProfileHost(ProfileHost.Settings("fast", "RoundRobin", "a"), null, a, b);
        LlmModelProfile profile = host.Profiles.Get("fast");
        Task<ChatResponse> inFlight = profile.GetResponseAsync("q");
        PendingRequest held = await a.NextRequestAsync();

        host.Reload("LlmGuard:Profiles:fast:Models:0:Client", "b");

        Assert.Equal("b", (await profile.GetResponseAsync("q")).Text);
        Assert.Equal("b", (await profile.GetResponseAsync("q")).Text);
        held.Answer("a");
        Assert.Equal("a", (await inFlight.Within()).Text);
        Assert.Equal(1, a.Requests);
    }

    [Fact]
    public async Task Requests_sent_while_the_models_are_reloaded_are_each_answered_once_and_leave_nothing_in_flight()
    {
        // Randomized interleavings, bounded: 4 threads send 50 requests each while the main thread switches the
        // second model of the profile between b and a 20 times.
        var a = new FakeModelClient("a");
        var b = new FakeModelClient("b");
        using var host = new ProfileHost(ProfileHost.Settings("fast", "LeastInFlight", "a", "a"), null, a, b);
        LlmModelProfile profile = host.Profiles.Get("fast");
        ProfileModel first = profile.Plan.Models[0];

        Task<string[]>[] senders = Enumerable.Range(0, 4).Select(_ => Task.Factory.StartNew(
            async () =>
            {
                var answers = new string[50];
                for (int i = 0; i < answers.Length; i++)
                {
                    answers[i] = (await profile.GetResponseAsync("q")).Text;
                }

                return answers;
            },
            System.Threading.CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default).Unwrap()).ToArray();
        for (int i = 0; i < 20; i++)
        {
            host.Reload("LlmGuard:Profiles:fast:Models:1:Client", i % 2 == 0 ? "b" : "a");
        }

        string[] answered = (await Task.WhenAll(senders).Within()).SelectMany(answers => answers).ToArray();

        Assert.Equal(200, answered.Length);
        Assert.Equal(200, a.Requests + b.Requests);
        Assert.All(answered, text => Assert.Contains(text, new[] { "a", "b" }));
        Assert.Same(first, profile.Plan.Models[0]);
        Assert.All(profile.Plan.Models, model => Assert.Equal(0, model.InFlight));
        Assert.DoesNotContain(host.Logs.Collector.GetSnapshot(), log => log.Id.Id == 11);
    }

    [Fact]
    public async Task A_reload_that_changes_the_strategy_applies_to_the_next_request()
    {
        var a = new FakeModelClient("a") { Gated = true };
        var b = new FakeModelClient("b") { Gated = true };
        using var host = new ProfileHost(ProfileHost.Settings("fast", "RoundRobin", "a", "b"), null, a, b);
        LlmModelProfile profile = host.Profiles.Get("fast");
        Task<ChatResponse> onA = profile.GetResponseAsync("q");
        PendingRequest heldOnA = await a.NextRequestAsync();
        Task<ChatResponse> onB = profile.GetResponseAsync("q");
        (await b.NextRequestAsync()).Answer("b");
        await onB.Within();

        host.Reload("LlmGuard:Profiles:fast:Strategy", "LeastInFlight");

        // Round-robin would start this request at a; a still holds a request and b none.
        Task<ChatResponse> next = profile.GetResponseAsync("q");
        (await b.NextRequestAsync()).Answer("b");
        Assert.Equal("b", (await next.Within()).Text);
        heldOnA.Answer("a");
        Assert.Equal("a", (await onA.Within()).Text);
    }

    [Fact]
    public async Task An_invalid_reload_keeps_the_previous_models()
    {
        var a = new FakeModelClient("a");
        using var host = new ProfileHost(ProfileHost.Settings("fast", "RoundRobin", "a"), null, a);
        LlmModelProfile profile = host.Profiles.Get("fast");

        host.Reload("LlmGuard:Profiles:fast:Models:0:Client", "missing");

        Assert.Equal("a", (await profile.GetResponseAsync("q")).Text);
        Assert.Contains(host.Logs.Collector.GetSnapshot(), log => log.Id.Id == 11 && log.Message.Contains("LlmGuard:Profiles:fast:Models:0:Client is 'missing'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_reload_that_leaves_a_model_unchanged_keeps_its_open_breaker()
    {
        var a = new FakeModelClient("a") { Failure = () => new TimeoutException() };
        var b = new FakeModelClient("b");
        Dictionary<string, string?> settings = ProfileHost.Settings("fast", "RoundRobin", "a");
        settings["LlmGuard:Profiles:fast:BreakerMinimumThroughput"] = "2";
        using var host = new ProfileHost(settings, null, a, b);
        LlmModelProfile profile = host.Profiles.Get("fast");
        await Assert.ThrowsAsync<TimeoutException>(() => profile.GetResponseAsync("q"));
        await Assert.ThrowsAsync<TimeoutException>(() => profile.GetResponseAsync("q"));

        host.Reload("LlmGuard:Profiles:fast:Models:1:Client", "b");

        for (int i = 0; i < 4; i++)
        {
            Assert.Equal("b", (await profile.GetResponseAsync("q")).Text);
        }

        Assert.Equal(2, a.Requests);
    }

    [Fact]
    public async Task A_model_id_is_set_on_a_copy_of_the_callers_options_which_stay_as_they_were()
    {
        var shared = new FakeModelClient("shared");
        var settings = new Dictionary<string, string?>
        {
            ["LlmGuard:Profiles:fast:Models:0:Client"] = "shared",
            ["LlmGuard:Profiles:fast:Models:0:Model"] = "gpt-4o-mini",
            ["LlmGuard:Profiles:fast:Models:1:Client"] = "shared",
            ["LlmGuard:Profiles:fast:Models:1:Model"] = "gpt-4.1-nano",
        };
        using var host = new ProfileHost(settings, null, shared);
        LlmModelProfile profile = host.Profiles.Get("fast");
        var options = new ChatOptions { ModelId = "caller-choice", Temperature = 0.2f };

        await profile.GetResponseAsync("q", options);
        await profile.GetResponseAsync("q", options);
        await profile.GetResponseAsync("q");

        ChatOptions?[] sent = shared.ReceivedOptions.ToArray();
        Assert.Equal(["gpt-4o-mini", "gpt-4.1-nano", "gpt-4o-mini"], sent.Select(o => o!.ModelId));
        Assert.All(sent, o => Assert.NotSame(options, o));
        Assert.Equal(0.2f, sent[0]!.Temperature);
        Assert.Equal("caller-choice", options.ModelId);
    }

    [Fact]
    public async Task A_model_without_a_model_id_receives_the_callers_options_unchanged()
    {
        var a = new FakeModelClient("a");
        using var host = new ProfileHost(ProfileHost.Settings("fast", "RoundRobin", "a"), null, a);
        var options = new ChatOptions { ModelId = "caller-choice" };

        await host.Profiles.Get("fast").GetResponseAsync("q", options);

        Assert.Same(options, Assert.Single(a.ReceivedOptions));
    }

    [Fact]
    public async Task A_streaming_request_picks_one_model_and_passes_its_updates_through()
    {
        var a = new FakeModelClient("a");
        var b = new FakeModelClient("b");
        using var host = new ProfileHost(ProfileHost.Settings("fast", "RoundRobin", "a", "b"), null, a, b);
        LlmModelProfile profile = host.Profiles.Get("fast");

        var first = new List<string>();
        await foreach (ChatResponseUpdate update in profile.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "q")]))
        {
            first.Add(update.Text);
        }

        ChatResponse second = await profile.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "q")]).ToChatResponseAsync();

        Assert.Equal(["a", ":", "streamed"], first);
        Assert.Equal("b:streamed", second.Text);
        Assert.All(profile.Plan.Models, model => Assert.Equal(0, model.InFlight));
    }

    [Fact]
    public async Task Each_request_is_counted_by_profile_model_and_result()
    {
        var a = new FakeModelClient("a") { Failure = () => new TimeoutException() };
        var b = new FakeModelClient("b");
        using var host = new ProfileHost(ProfileHost.Settings("fast", "RoundRobin", "a", "b"), null, a, b);
        using var requests = new MetricCollector<long>(
            host.Provider.GetRequiredService<GuardRuntime>().Telemetry.Meter, "llmguard.profile.requests");
        LlmModelProfile profile = host.Profiles.Get("fast");

        await Assert.ThrowsAsync<TimeoutException>(() => profile.GetResponseAsync("q"));
        await profile.GetResponseAsync("q");

        Assert.Equal(
            ["fast|a|error", "fast|b|success"],
            requests.GetMeasurementSnapshot().Select(m => $"{m.Tags["llmguard.profile"]}|{m.Tags["gen_ai.request.model"]}|{m.Tags["llmguard.result"]}"));
    }
}
