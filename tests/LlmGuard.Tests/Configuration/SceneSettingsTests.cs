using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Polly.Timeout;

namespace LlmGuard.Tests.Configuration;

/// <summary>Scene settings on a standalone runtime, the generated scene manifest, and merge windows across a reload.</summary>
public sealed class SceneSettingsTests
{
    private readonly TimerAwareFakeTimeProvider _time = new();
    private readonly ScriptedModel _model = new();

    [Fact]
    public async Task A_standalone_runtime_applies_its_scene_options()
    {
        var runtime = new GuardRuntime(_time)
        {
            Options = new LlmGuardOptions { Scenes = { [ConfiguredAssistant.ReplyScene] = new LlmSceneOptions { TimeoutMs = 300 } } },
        };
        var assistant = new ConfiguredAssistant(runtime, _model);

        Task<string> call = assistant.AskAsync("q");
        ModelCall attempt = await _model.NextCallAsync();
        _time.Advance(TimeSpan.FromMilliseconds(299));
        Assert.False(attempt.Token.IsCancellationRequested);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        await Assert.ThrowsAsync<TimeoutRejectedException>(() => call.Within());
        Assert.Equal(0, runtime.InFlightCount);
    }

    [Fact]
    public async Task Changing_the_options_object_after_the_runtime_is_created_changes_no_call()
    {
        var options = new LlmGuardOptions { Scenes = { [ConfiguredAssistant.ReplyScene] = new LlmSceneOptions { TimeoutMs = 300 } } };
        var runtime = new GuardRuntime(_time) { Options = options };
        options.Scenes[ConfiguredAssistant.ReplyScene].TimeoutMs = 20;
        var assistant = new ConfiguredAssistant(runtime, _model);

        Task<string> call = assistant.AskAsync("q");
        ModelCall attempt = await _model.NextCallAsync();
        _time.Advance(TimeSpan.FromMilliseconds(20));
        Assert.False(attempt.Token.IsCancellationRequested);
        _time.Advance(TimeSpan.FromMilliseconds(280));

        await Assert.ThrowsAsync<TimeoutRejectedException>(() => call.Within());
    }

    [Fact]
    public void A_standalone_runtime_refuses_a_value_out_of_range_with_the_scene_key_and_range()
    {
        var options = new LlmGuardOptions { Scenes = { ["anything"] = new LlmSceneOptions { MaxRetries = -1 } } };

        ArgumentException failure = Assert.Throws<ArgumentException>(() => new GuardRuntime(_time) { Options = options });

        Assert.StartsWith("LlmGuard:Scenes:anything:MaxRetries is -1, out of range; allowed: 0 to 100.", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_manifest_lists_the_test_assemblys_guarded_methods_with_their_compile_time_settings()
    {
        GuardScene reply = Assert.Single(GuardSceneManifest.Scenes, s => s.Scene == ConfiguredAssistant.ReplyScene);
        Assert.Equal("LlmGuard.Tests.Configuration.ConfiguredAssistant.AskAsync", reply.Method);
        Assert.Equal(1000, reply.TimeoutMs);
        Assert.Equal(0, reply.MaxRetries);
        Assert.Equal(GuardedAttribute.DefaultRetryDelayMs, reply.RetryDelayMs);
        Assert.Equal(GuardedAttribute.DefaultMaxRetryAfterMs, reply.MaxRetryAfterMs);
        Assert.Equal(0, reply.MergeWindowMs);

        GuardScene sliding = Assert.Single(GuardSceneManifest.Scenes, s => s.Scene == ConfiguredAssistant.SlidingScene);
        Assert.Equal((100, MergeMode.Sliding, 500), (sliding.MergeWindowMs, sliding.MergeMode, sliding.MergeMaxWaitMs));

        // Default scenes are TypeName.MethodName; the other guarded types of this assembly are listed too.
        Assert.Contains(GuardSceneManifest.Scenes, s => s.Method == "LlmGuard.Tests.Guarded.Assistant.AskAsync" && s.Scene == "Assistant.AskAsync");
        Assert.True(GuardSceneManifest.Contains(ConfiguredAssistant.MergeScene));
        Assert.False(GuardSceneManifest.Contains("config_reply_typo"));
    }

    [Fact]
    public async Task A_merge_window_replaced_by_a_reload_still_executes_its_calls_and_counts_in_flight_until_empty()
    {
        const string window = "LlmGuard:Scenes:" + ConfiguredAssistant.MergeScene + ":MergeWindowMs";
        IConfigurationRoot configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>()).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton<TimeProvider>(_time);
        services.AddLlmGuard();
        using ServiceProvider provider = services.BuildServiceProvider();
        GuardRuntime runtime = provider.GetRequiredService<GuardRuntime>();
        var assistant = new ConfiguredAssistant(runtime, _model);

        Task<string> early = assistant.SuggestAsync("u1", "a");
        Assert.Equal(1, runtime.InFlightCount);
        configuration[window] = "300";
        configuration.Reload();
        Assert.Equal(1, runtime.InFlightCount);
        Task<string> late = assistant.SuggestAsync("u1", "b");
        Assert.Equal(2, runtime.InFlightCount);

        // The replaced window closes on its own 100 ms timer, with only the call that joined it.
        _time.Advance(TimeSpan.FromMilliseconds(100));
        ModelCall first = await _model.NextCallAsync();
        Assert.Equal("u1:a", first.Prompt);
        first.Succeed("for a");
        Assert.Equal("for a", await early.Within());
        Assert.Equal(1, runtime.InFlightCount);

        _time.Advance(TimeSpan.FromMilliseconds(200));
        ModelCall second = await _model.NextCallAsync();
        Assert.Equal("u1:b", second.Prompt);
        second.Succeed("for b");
        Assert.Equal("for b", await late.Within());
        Assert.Equal(0, runtime.InFlightCount);
        Assert.Equal(2, _model.Calls);
    }
}
