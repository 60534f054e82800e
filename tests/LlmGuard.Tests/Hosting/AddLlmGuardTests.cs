using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Failures;
using LlmGuard.Tests.Configuration;
using LlmGuard.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using Polly.Timeout;

namespace LlmGuard.Tests.Hosting;

/// <summary>AddLlmGuard(): the runtime from the container, scene settings from configuration, validation and reload.</summary>
public sealed class AddLlmGuardTests : IDisposable
{
    private const string ReplyTimeout = "LlmGuard:Scenes:" + ConfiguredAssistant.ReplyScene + ":TimeoutMs";

    private readonly TimerAwareFakeTimeProvider _time = new();
    private readonly ScriptedModel _model = new();
    private readonly List<ServiceProvider> _providers = new();

    public void Dispose()
    {
        foreach (ServiceProvider provider in _providers)
        {
            Assert.Equal(0, provider.GetRequiredService<GuardRuntime>().InFlightCount);
            provider.Dispose();
        }
    }

    [Fact]
    public void The_runtime_is_one_singleton_built_from_the_containers_services()
    {
        (ServiceProvider provider, _) = Host(new());

        GuardRuntime runtime = provider.GetRequiredService<GuardRuntime>();

        Assert.Same(runtime, provider.GetRequiredService<GuardRuntime>());
        Assert.Same(_time, runtime.TimeProvider);
        Assert.Same(provider.GetRequiredService<ILoggerFactory>(), runtime.LoggerFactory);
        Assert.Same(provider.GetRequiredService<IOptionsMonitor<LlmGuardOptions>>().CurrentValue, runtime.Options);
    }

    [Fact]
    public void The_builder_chains_further_setup_onto_the_same_services_and_a_second_call_adds_no_second_runtime()
    {
        var services = new ServiceCollection();

        Assert.Same(services, services.AddLlmGuard().Services);
        services.AddLlmGuard();

        Assert.Single(services, d => d.ServiceType == typeof(GuardRuntime));
    }

    [Fact]
    public void A_registered_failure_classifier_becomes_the_runtimes_own_rule()
    {
        FailureClassifier classifier = static _ => FailureClassification.Permanent;
        var services = new ServiceCollection();
        services.AddSingleton(classifier);
        services.AddLlmGuard();
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Same(classifier, provider.GetRequiredService<GuardRuntime>().FailureClassifier);
    }

    [Fact]
    public void Without_a_registered_clock_the_runtime_measures_time_on_the_system_clock()
    {
        var services = new ServiceCollection();
        services.AddLlmGuard();
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Same(TimeProvider.System, provider.GetRequiredService<GuardRuntime>().TimeProvider);
    }

    [Fact]
    public async Task A_configured_timeout_overrides_the_attributes_timeout()
    {
        (ServiceProvider provider, _) = Host(new() { [ReplyTimeout] = "200" });
        var assistant = new ConfiguredAssistant(provider.GetRequiredService<GuardRuntime>(), _model);

        Task<string> call = assistant.AskAsync("q");
        ModelCall attempt = await _model.NextCallAsync();
        _time.Advance(TimeSpan.FromMilliseconds(199));
        Assert.False(attempt.Token.IsCancellationRequested);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        await Assert.ThrowsAsync<TimeoutRejectedException>(() => call.Within());
        Assert.True(attempt.Token.IsCancellationRequested);
    }

    [Fact]
    public async Task Code_configuration_applies_after_the_configuration_section()
    {
        (ServiceProvider provider, _) = Host(
            new() { [ReplyTimeout] = "200" },
            options => options.Scenes[ConfiguredAssistant.ReplyScene].TimeoutMs = 50);
        var assistant = new ConfiguredAssistant(provider.GetRequiredService<GuardRuntime>(), _model);

        Task<string> call = assistant.AskAsync("q");
        await _model.NextCallAsync();
        _time.Advance(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAsync<TimeoutRejectedException>(() => call.Within());
    }

    [Fact]
    public async Task A_reload_applies_to_calls_started_after_it_and_an_in_flight_call_keeps_its_timeout()
    {
        (ServiceProvider provider, IConfigurationRoot configuration) = Host(new() { [ReplyTimeout] = "200" });
        var assistant = new ConfiguredAssistant(provider.GetRequiredService<GuardRuntime>(), _model);
        Task<string> before = assistant.AskAsync("before");
        ModelCall beforeAttempt = await _model.NextCallAsync();

        Reload(configuration, ReplyTimeout, "600");
        Task<string> after = assistant.AskAsync("after");
        ModelCall afterAttempt = await _model.NextCallAsync();
        _time.Advance(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAsync<TimeoutRejectedException>(() => before.Within());
        Assert.True(beforeAttempt.Token.IsCancellationRequested);
        Assert.False(afterAttempt.Token.IsCancellationRequested);
        _time.Advance(TimeSpan.FromMilliseconds(399));
        Assert.False(afterAttempt.Token.IsCancellationRequested);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => after.Within());
    }

    [Fact]
    public async Task A_reload_rebuilds_the_policy_of_each_changed_scene_once_and_no_call_rebuilds_it()
    {
        (ServiceProvider provider, IConfigurationRoot configuration) = Host(new() { [ReplyTimeout] = "200" });
        GuardRuntime runtime = provider.GetRequiredService<GuardRuntime>();
        var assistant = new ConfiguredAssistant(runtime, _model);
        await AnswerAsync(assistant, "first");
        long built = runtime.PolicyBuildCount;

        Reload(configuration, ReplyTimeout, "300");
        Assert.Equal(built + 1, runtime.PolicyBuildCount);
        for (int i = 0; i < 3; i++)
        {
            await AnswerAsync(assistant, "after " + i);
        }

        Assert.Equal(built + 1, runtime.PolicyBuildCount);
        Reload(configuration, "LlmGuard:Scenes:" + ConfiguredAssistant.MergeScene + ":MergeWindowMs", "50");
        Assert.Equal(built + 1, runtime.PolicyBuildCount);
    }

    [Fact]
    public void A_valid_reload_logs_the_scenes_that_changed()
    {
        (ServiceProvider provider, IConfigurationRoot configuration) = Host(new() { [ReplyTimeout] = "200" });
        provider.GetRequiredService<GuardRuntime>();

        Reload(configuration, ReplyTimeout, "300");

        FakeLogRecord reloaded = Assert.Single(provider.GetFakeLogCollector().GetSnapshot(), r => r.Id.Id == 10);
        Assert.Equal("ConfigurationReloaded", reloaded.Id.Name);
        Assert.Equal("LlmGuard", reloaded.Category);
        Assert.Equal("LlmGuard configuration reloaded; calls that start from now on use the new settings of the scenes config_reply", reloaded.Message);
    }

    [Fact]
    public async Task An_invalid_reload_keeps_the_previous_settings_and_logs_the_rejection_without_throwing()
    {
        (ServiceProvider provider, IConfigurationRoot configuration) = Host(new() { [ReplyTimeout] = "200" });
        GuardRuntime runtime = provider.GetRequiredService<GuardRuntime>();
        var assistant = new ConfiguredAssistant(runtime, _model);

        Reload(configuration, ReplyTimeout, "5");

        FakeLogRecord rejected = Assert.Single(provider.GetFakeLogCollector().GetSnapshot(), r => r.Id.Id == 11);
        Assert.Equal("ConfigurationRejected", rejected.Id.Name);
        Assert.Equal(LogLevel.Error, rejected.Level);
        Assert.Contains("LlmGuard:Scenes:config_reply:TimeoutMs is 5, out of range; allowed: 0 (no timeout) or 10 to 86400000.", rejected.Message, StringComparison.Ordinal);
        Assert.Equal(200, provider.GetRequiredService<IOptionsMonitor<LlmGuardOptions>>().CurrentValue.Scenes[ConfiguredAssistant.ReplyScene].TimeoutMs);
        Assert.Equal(200, runtime.Options!.Scenes[ConfiguredAssistant.ReplyScene].TimeoutMs);

        Task<string> call = assistant.AskAsync("q");
        await _model.NextCallAsync();
        _time.Advance(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => call.Within());
    }

    [Fact]
    public void A_reload_with_a_value_that_is_not_a_number_is_rejected_and_logged()
    {
        (ServiceProvider provider, IConfigurationRoot configuration) = Host(new() { [ReplyTimeout] = "200" });
        GuardRuntime runtime = provider.GetRequiredService<GuardRuntime>();

        Reload(configuration, ReplyTimeout, "fast");

        Assert.Single(provider.GetFakeLogCollector().GetSnapshot(), r => r.Id.Id == 11);
        Assert.Equal(200, runtime.Options!.Scenes[ConfiguredAssistant.ReplyScene].TimeoutMs);
    }

    [Theory]
    [InlineData("LlmGuard:Scenes:no_such_scene:TimeoutMs", "100",
        "LlmGuard:Scenes:no_such_scene: no guarded method has the scene 'no_such_scene'; the scenes are ")]
    [InlineData("LlmGuard:Scenes:config_reply:Timeout", "100",
        "LlmGuard:Scenes:config_reply:Timeout is not a scene setting; the keys are TimeoutMs, MaxRetries, RetryDelayMs, MaxRetryAfterMs, MergeWindowMs, MergeMaxWaitMs, CacheSeconds, SemanticCache, SemanticThreshold, SemanticMaxEntries, BreakerFailureRatio, BreakerMinimumThroughput, BreakerSamplingMs, BreakerBreakMs, MaxConcurrency, MaxQueue, RateLimit, RateLimitWindowMs, TenantMaxConcurrency, TenantRateLimit, FirstItemTimeoutMs, IdleTimeoutMs, StreamReplayItems, Distributed.")]
    [InlineData("LlmGuard:Scenes:config_reply:TimeoutMs", "9",
        "LlmGuard:Scenes:config_reply:TimeoutMs is 9, out of range; allowed: 0 (no timeout) or 10 to 86400000.")]
    [InlineData("LlmGuard:Scenes:config_reply:MaxRetries", "101",
        "LlmGuard:Scenes:config_reply:MaxRetries is 101, out of range; allowed: 0 to 100.")]
    [InlineData("LlmGuard:Scenes:config_reply:RetryDelayMs", "-1",
        "LlmGuard:Scenes:config_reply:RetryDelayMs is -1, out of range; allowed: 0 to 86400000.")]
    [InlineData("LlmGuard:Scenes:config_reply:MaxRetryAfterMs", "86400001",
        "LlmGuard:Scenes:config_reply:MaxRetryAfterMs is 86400001, out of range; allowed: 0 to 86400000.")]
    [InlineData("LlmGuard:Scenes:config_merge:MergeWindowMs", "-5",
        "LlmGuard:Scenes:config_merge:MergeWindowMs is -5, out of range; allowed: 0 to 86400000.")]
    [InlineData("LlmGuard:Scenes:config_reply:CacheSeconds", "2592001",
        "LlmGuard:Scenes:config_reply:CacheSeconds is 2592001, out of range; allowed: 0 to 2592000.")]
    [InlineData("LlmGuard:Scenes:config_reply:CacheSeconds", "60",
        "LlmGuard:Scenes:config_reply:CacheSeconds is 60, but LlmGuard.Tests.Configuration.ConfiguredAssistant.AskAsync is compiled without CacheSeconds; allowed: 0, or set CacheSeconds on its [Guarded] attribute first.")]
    [InlineData("LlmGuard:Scenes:config_reply:CacheSeconds", "-1",
        "LlmGuard:Scenes:config_reply:CacheSeconds is -1, out of range; allowed: 0 to 2592000.")]
    [InlineData("LlmGuard:Scenes:config_sliding:MergeWindowMs", "800",
        "LlmGuard:Scenes:config_sliding:MergeMaxWaitMs is 500, out of range for LlmGuard.Tests.Configuration.ConfiguredAssistant.DraftAsync, whose merge window slides; allowed: its MergeWindowMs (800) to 86400000.")]
    public void Start_up_validation_names_the_scene_the_key_and_the_allowed_range(string key, string value, string message)
    {
        (ServiceProvider provider, _) = Host(new() { [key] = value });

        OptionsValidationException failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        string reported = Assert.Single(failure.Failures);
        if (message.EndsWith("the scenes are ", StringComparison.Ordinal))
        {
            Assert.StartsWith(message, reported, StringComparison.Ordinal);
            Assert.Contains(ConfiguredAssistant.ReplyScene, reported.Substring(message.Length).TrimEnd('.').Split(", "));
        }
        else
        {
            Assert.Equal(message, reported);
        }

        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<GuardRuntime>());
        _providers.Remove(provider);
        provider.Dispose();
    }

    [Fact]
    public async Task Keys_match_regardless_of_case_as_everywhere_in_configuration()
    {
        (ServiceProvider provider, _) = Host(new() { ["LLMGUARD:SCENES:config_reply:TimeOutMs"] = "40" });
        provider.GetRequiredService<IStartupValidator>().Validate();
        var assistant = new ConfiguredAssistant(provider.GetRequiredService<GuardRuntime>(), _model);

        Task<string> call = assistant.AskAsync("q");
        await _model.NextCallAsync();
        _time.Advance(TimeSpan.FromMilliseconds(40));

        await Assert.ThrowsAsync<TimeoutRejectedException>(() => call.Within());
    }

    [Fact]
    public async Task A_host_with_an_invalid_scene_setting_fails_to_start()
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [ReplyTimeout] = "9" });
        builder.Services.AddLlmGuard();
        using IHost host = builder.Build();

        OptionsValidationException failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal("LlmGuard:Scenes:config_reply:TimeoutMs is 9, out of range; allowed: 0 (no timeout) or 10 to 86400000.", Assert.Single(failure.Failures));
    }

    [Fact]
    public void Valid_scene_settings_pass_start_up_validation()
    {
        (ServiceProvider provider, _) = Host(new()
        {
            [ReplyTimeout] = "0",
            ["LlmGuard:Scenes:config_reply:maxretries"] = "100",
            ["LlmGuard:Scenes:config_sliding:MergeWindowMs"] = "500",
        });

        provider.GetRequiredService<IStartupValidator>().Validate();

        Assert.Equal(100, provider.GetRequiredService<GuardRuntime>().Options!.Scenes[ConfiguredAssistant.ReplyScene].MaxRetries);
    }

    private async Task AnswerAsync(ConfiguredAssistant assistant, string question)
    {
        Task<string> call = assistant.AskAsync(question);
        (await _model.NextCallAsync()).Succeed("answer to " + question);
        Assert.Equal("answer to " + question, await call.Within());
    }

    private static void Reload(IConfigurationRoot configuration, string key, string value)
    {
        configuration[key] = value;
        configuration.Reload();
    }

    private (ServiceProvider Provider, IConfigurationRoot Configuration) Host(Dictionary<string, string?> settings, Action<LlmGuardOptions>? configure = null)
    {
        IConfigurationRoot configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton<TimeProvider>(_time);
        services.AddFakeLogging();
        if (configure is null)
        {
            services.AddLlmGuard();
        }
        else
        {
            services.AddLlmGuard(configure);
        }

        ServiceProvider provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return (provider, configuration);
    }
}
