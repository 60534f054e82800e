using System;
using LlmGuard.Configuration;

namespace LlmGuard.Tests.Protection;

/// <summary>Start-up validation of the protection settings: each failure names the scene, the key and the allowed range.</summary>
public sealed class ProtectionSettingsTests
{
    [Theory]
    [InlineData(nameof(LlmSceneOptions.BreakerFailureRatio), "LlmGuard:Scenes:s:BreakerFailureRatio is 0, out of range; allowed: above 0, up to 1.")]
    [InlineData(nameof(LlmSceneOptions.BreakerMinimumThroughput), "LlmGuard:Scenes:s:BreakerMinimumThroughput is 1, out of range; allowed: 2 to 2147483647.")]
    [InlineData(nameof(LlmSceneOptions.BreakerSamplingMs), "LlmGuard:Scenes:s:BreakerSamplingMs is 499, out of range; allowed: 500 to 86400000.")]
    [InlineData(nameof(LlmSceneOptions.BreakerBreakMs), "LlmGuard:Scenes:s:BreakerBreakMs is 499, out of range; allowed: 500 to 86400000.")]
    [InlineData(nameof(LlmSceneOptions.MaxConcurrency), "LlmGuard:Scenes:s:MaxConcurrency is -1, out of range; allowed: 0 to 2147483647.")]
    [InlineData(nameof(LlmSceneOptions.MaxQueue), "LlmGuard:Scenes:s:MaxQueue is -1, out of range; allowed: 0 to 2147483647.")]
    [InlineData(nameof(LlmSceneOptions.RateLimit), "LlmGuard:Scenes:s:RateLimit is -1, out of range; allowed: 0 to 2147483647.")]
    [InlineData(nameof(LlmSceneOptions.RateLimitWindowMs), "LlmGuard:Scenes:s:RateLimitWindowMs is 0, out of range; allowed: 1 to 86400000.")]
    public void An_out_of_range_setting_is_refused_with_the_scene_key_and_range(string key, string message)
    {
        var scene = new LlmSceneOptions { BreakerFailureRatio = 0.5 };
        switch (key)
        {
            case nameof(LlmSceneOptions.BreakerFailureRatio): scene.BreakerFailureRatio = 0; break;
            case nameof(LlmSceneOptions.BreakerMinimumThroughput): scene.BreakerMinimumThroughput = 1; break;
            case nameof(LlmSceneOptions.BreakerSamplingMs): scene.BreakerSamplingMs = 499; break;
            case nameof(LlmSceneOptions.BreakerBreakMs): scene.BreakerBreakMs = 499; break;
            case nameof(LlmSceneOptions.MaxConcurrency): scene.MaxConcurrency = -1; break;
            case nameof(LlmSceneOptions.MaxQueue): scene.MaxQueue = -1; break;
            case nameof(LlmSceneOptions.RateLimit): scene.RateLimit = -1; break;
            default: scene.RateLimitWindowMs = 0; break;
        }

        ArgumentException failure = Assert.Throws<ArgumentException>(() => new GuardRuntime { Options = new LlmGuardOptions { Scenes = { ["s"] = scene } } });

        Assert.StartsWith(message, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_breaker_setting_without_a_failure_ratio_is_refused_rather_than_ignored()
    {
        var options = new LlmGuardOptions { Scenes = { ["s"] = new LlmSceneOptions { BreakerBreakMs = 10_000 } } };

        ArgumentException failure = Assert.Throws<ArgumentException>(() => new GuardRuntime { Options = options });

        Assert.StartsWith("LlmGuard:Scenes:s: a Breaker setting is set but BreakerFailureRatio is not", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rate_limit_window_without_a_rate_limit_is_refused_rather_than_ignored()
    {
        var options = new LlmGuardOptions { Scenes = { ["s"] = new LlmSceneOptions { RateLimitWindowMs = 1_000 } } };

        ArgumentException failure = Assert.Throws<ArgumentException>(() => new GuardRuntime { Options = options });

        Assert.StartsWith("LlmGuard:Scenes:s:RateLimitWindowMs is set but neither RateLimit nor TenantRateLimit is", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_breaker_on_a_scene_without_a_timeout_is_refused_since_a_hung_probe_would_never_end()
    {
        var options = new LlmGuardOptions { Scenes = { ["s"] = new LlmSceneOptions { BreakerFailureRatio = 0.5, TimeoutMs = 0 } } };

        ArgumentException failure = Assert.Throws<ArgumentException>(() => new GuardRuntime { Options = options });

        Assert.StartsWith("LlmGuard:Scenes:s:BreakerFailureRatio is set but the scene's TimeoutMs is 0", failure.Message, StringComparison.Ordinal);
        Assert.Contains("hung half-open probe", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_ratio_of_one_and_every_limit_at_its_bound_are_accepted()
    {
        var scene = new LlmSceneOptions
        {
            BreakerFailureRatio = 1,
            BreakerMinimumThroughput = 2,
            BreakerSamplingMs = 500,
            BreakerBreakMs = 86_400_000,
            MaxConcurrency = 0,
            MaxQueue = 0,
            RateLimit = 1,
            RateLimitWindowMs = 1,
            TenantMaxConcurrency = 0,
            TenantRateLimit = 0,
        };

        _ = new GuardRuntime { Options = new LlmGuardOptions { Scenes = { ["s"] = scene } } };
    }
}
