using System;
using System.Collections.Generic;
using System.Globalization;
using LlmGuard.Internal;
using Microsoft.Extensions.Configuration;

namespace LlmGuard.Configuration;

/// <summary>
/// The checks run-time configuration passes before any call uses it. Each failure names the scene, the key and what
/// is allowed, in the ranges the generator enforces on the attribute.
/// </summary>
internal static class LlmGuardOptionsValidation
{
    /// <summary>The configuration section scenes bind from.</summary>
    public const string ScenesSection = "LlmGuard:Scenes";

    private static readonly string[] s_keys =
    {
        nameof(LlmSceneOptions.TimeoutMs),
        nameof(LlmSceneOptions.MaxRetries),
        nameof(LlmSceneOptions.RetryDelayMs),
        nameof(LlmSceneOptions.MaxRetryAfterMs),
        nameof(LlmSceneOptions.MergeWindowMs),
        nameof(LlmSceneOptions.MergeMaxWaitMs),
        nameof(LlmSceneOptions.CacheSeconds),
        nameof(LlmSceneOptions.SemanticCache),
        nameof(LlmSceneOptions.SemanticThreshold),
        nameof(LlmSceneOptions.SemanticMaxEntries),
        nameof(LlmSceneOptions.BreakerFailureRatio),
        nameof(LlmSceneOptions.BreakerMinimumThroughput),
        nameof(LlmSceneOptions.BreakerSamplingMs),
        nameof(LlmSceneOptions.BreakerBreakMs),
        nameof(LlmSceneOptions.MaxConcurrency),
        nameof(LlmSceneOptions.MaxQueue),
        nameof(LlmSceneOptions.RateLimit),
        nameof(LlmSceneOptions.RateLimitWindowMs),
        nameof(LlmSceneOptions.TenantMaxConcurrency),
        nameof(LlmSceneOptions.TenantRateLimit),
        nameof(LlmSceneOptions.FirstItemTimeoutMs),
        nameof(LlmSceneOptions.IdleTimeoutMs),
        nameof(LlmSceneOptions.StreamReplayItems),
        nameof(LlmSceneOptions.Distributed),
    };

    /// <summary>Finds every failure of <paramref name="options"/>.</summary>
    /// <param name="options">The options to check.</param>
    /// <param name="requireKnownScenes">Whether a scene no registered guarded method has is a failure.</param>
    /// <param name="scenesSection">The configuration the scenes were bound from, whose keys are checked; <see langword="null"/> when none.</param>
    /// <returns>The failure messages; empty when the options are valid.</returns>
    public static List<string> Validate(LlmGuardOptions options, bool requireKnownScenes, IConfigurationSection? scenesSection)
    {
        var failures = new List<string>();
        if (scenesSection is not null)
        {
            // The binder ignores keys that match no property, so a typo such as "TimeOutMs" would silently keep the default.
            foreach (IConfigurationSection scene in scenesSection.GetChildren())
            {
                foreach (IConfigurationSection key in scene.GetChildren())
                {
                    if (Array.FindIndex(s_keys, known => string.Equals(known, key.Key, StringComparison.OrdinalIgnoreCase)) < 0)
                    {
                        failures.Add($"LlmGuard:Scenes:{scene.Key}:{key.Key} is not a scene setting; the keys are {string.Join(", ", s_keys)}.");
                    }
                }
            }
        }

        foreach (KeyValuePair<string, LlmSceneOptions> scene in options.Scenes)
        {
            if (requireKnownScenes && !GuardSceneManifest.Contains(scene.Key))
            {
                failures.Add($"LlmGuard:Scenes:{scene.Key}: no guarded method has the scene '{scene.Key}'; the scenes are {KnownScenes()}.");
                continue;
            }

            if (scene.Value is { } settings)
            {
                ValidateScene(scene.Key, settings, failures);
            }
        }

        ValidateUsage(options, requireKnownScenes, failures);
        return failures;
    }

    // A budget that could never refuse, or a price that would make cost negative, is a mistake to report at start-up,
    // not a limit that silently does nothing.
    private static void ValidateUsage(LlmGuardOptions options, bool requireKnownScenes, List<string> failures)
    {
        if (options.UsageQueueCapacity < 1)
        {
            failures.Add($"LlmGuard:UsageQueueCapacity is {options.UsageQueueCapacity.ToString(CultureInfo.InvariantCulture)}, out of range; allowed: 1 to {int.MaxValue}.");
        }

        foreach (KeyValuePair<string, Usage.LlmModelPrice> price in options.Prices)
        {
            if (price.Value is { } p && (p.InputPerMillionTokens < 0 || p.OutputPerMillionTokens < 0))
            {
                failures.Add($"LlmGuard:Prices:{price.Key}: a price per million tokens is negative; allowed: 0 or more.");
            }
        }

        foreach (KeyValuePair<string, Usage.LlmTokenBudget> budget in options.Budgets)
        {
            if (budget.Value is not { } b)
            {
                continue;
            }

            if (b.Tokens <= 0)
            {
                failures.Add($"LlmGuard:Budgets:{budget.Key}:Tokens is {b.Tokens.ToString(CultureInfo.InvariantCulture)}, out of range; allowed: 1 or more.");
            }

            if (b.Period <= TimeSpan.Zero)
            {
                failures.Add($"LlmGuard:Budgets:{budget.Key}:Period is {b.Period.ToString("c", CultureInfo.InvariantCulture)}, out of range; allowed: longer than 00:00:00.");
            }

            if (requireKnownScenes && b.Scene is { } scene && !GuardSceneManifest.Contains(scene))
            {
                failures.Add($"LlmGuard:Budgets:{budget.Key}:Scene: no guarded method has the scene '{scene}'; the scenes are {KnownScenes()}.");
            }
        }
    }

    private static void ValidateScene(string scene, LlmSceneOptions settings, List<string> failures)
    {
        CheckTimeout(scene, nameof(LlmSceneOptions.TimeoutMs), settings.TimeoutMs, failures);
        CheckTimeout(scene, nameof(LlmSceneOptions.FirstItemTimeoutMs), settings.FirstItemTimeoutMs, failures);
        CheckTimeout(scene, nameof(LlmSceneOptions.IdleTimeoutMs), settings.IdleTimeoutMs, failures);
        CheckRange(scene, nameof(LlmSceneOptions.StreamReplayItems), settings.StreamReplayItems, 1, GuardLimits.MaxStreamReplayItems, failures);

        CheckRange(scene, nameof(LlmSceneOptions.MaxRetries), settings.MaxRetries, GuardLimits.MaxRetries, failures);
        CheckRange(scene, nameof(LlmSceneOptions.RetryDelayMs), settings.RetryDelayMs, GuardLimits.MaxMilliseconds, failures);
        CheckRange(scene, nameof(LlmSceneOptions.MaxRetryAfterMs), settings.MaxRetryAfterMs, GuardLimits.MaxMilliseconds, failures);
        if (CheckRange(scene, nameof(LlmSceneOptions.CacheSeconds), settings.CacheSeconds, GuardLimits.MaxCacheSeconds, failures) && settings.CacheSeconds > 0)
        {
            // What makes a cached answer safe (its key's version, and the compile-time checks of its key) exists only for
            // methods compiled with CacheSeconds: configuration may shorten, lengthen or stop their caching, not start it.
            foreach (GuardScene method in GuardSceneManifest.Scenes)
            {
                if (method.CacheSeconds == 0 && string.Equals(method.Scene, scene, StringComparison.Ordinal))
                {
                    failures.Add(
                        $"LlmGuard:Scenes:{scene}:CacheSeconds is {settings.CacheSeconds.Value.ToString(CultureInfo.InvariantCulture)}, but {method.Method} is compiled without CacheSeconds; " +
                        "allowed: 0, or set CacheSeconds on its [Guarded] attribute first.");
                    break;
                }
            }
        }

        ValidateSemanticCache(scene, settings, failures);
        ValidateProtection(scene, settings, failures);
        bool windowInRange = CheckRange(scene, nameof(LlmSceneOptions.MergeWindowMs), settings.MergeWindowMs, GuardLimits.MaxMilliseconds, failures);
        bool maxWaitInRange = CheckRange(scene, nameof(LlmSceneOptions.MergeMaxWaitMs), settings.MergeMaxWaitMs, GuardLimits.MaxMilliseconds, failures);
        if (!windowInRange || !maxWaitInRange || (settings.MergeWindowMs is null && settings.MergeMaxWaitMs is null))
        {
            return;
        }

        // A sliding window needs a longest wait of at least one window, whichever of the two configuration changed.
        foreach (GuardScene method in GuardSceneManifest.Scenes)
        {
            if (method.MergeMode != MergeMode.Sliding || !string.Equals(method.Scene, scene, StringComparison.Ordinal))
            {
                continue;
            }

            int window = settings.MergeWindowMs ?? method.MergeWindowMs;
            int maxWait = settings.MergeMaxWaitMs ?? method.MergeMaxWaitMs;
            if (window > 0 && maxWait < window)
            {
                failures.Add(
                    $"LlmGuard:Scenes:{scene}:MergeMaxWaitMs is {maxWait.ToString(CultureInfo.InvariantCulture)}, out of range for {method.Method}, whose merge window slides; " +
                    $"allowed: its MergeWindowMs ({window.ToString(CultureInfo.InvariantCulture)}) to {GuardLimits.MaxMilliseconds}.");
                return;
            }
        }
    }

    private static void ValidateSemanticCache(string scene, LlmSceneOptions settings, List<string> failures)
    {
        // Written so that NaN is out of range too.
        if (settings.SemanticThreshold is double threshold && !(threshold > 0 && threshold <= 1))
        {
            failures.Add($"LlmGuard:Scenes:{scene}:SemanticThreshold is {threshold.ToString(CultureInfo.InvariantCulture)}, out of range; allowed: above 0, up to 1.");
        }

        if (settings.SemanticMaxEntries is int maxEntries && maxEntries < 1)
        {
            failures.Add(OutOfRange(scene, nameof(LlmSceneOptions.SemanticMaxEntries), maxEntries, $"1 to {int.MaxValue}"));
        }

        if (settings.SemanticCache != true)
        {
            return;
        }

        // Only a marked parameter says which text to compare and which key parts must match exactly.
        foreach (GuardScene method in GuardSceneManifest.Scenes)
        {
            if (!method.SemanticText && string.Equals(method.Scene, scene, StringComparison.Ordinal))
            {
                failures.Add(
                    $"LlmGuard:Scenes:{scene}:SemanticCache is true, but {method.Method} has no [SemanticCacheText] parameter; " +
                    "allowed: false, or mark the string parameter whose text is compared [SemanticCacheText] first.");
                break;
            }
        }
    }

    // The ranges Polly's circuit breaker and System.Threading.RateLimiting accept, so a valid configuration never fails
    // when a policy is built on a call.
    private static void ValidateProtection(string scene, LlmSceneOptions settings, List<string> failures)
    {
        if (settings.BreakerFailureRatio is double ratio && !(ratio > 0 && ratio <= 1))
        {
            failures.Add($"LlmGuard:Scenes:{scene}:BreakerFailureRatio is {ratio.ToString(CultureInfo.InvariantCulture)}, out of range; allowed: above 0, up to 1.");
        }

        if (settings.BreakerMinimumThroughput is int throughput && throughput < 2)
        {
            failures.Add(OutOfRange(scene, nameof(LlmSceneOptions.BreakerMinimumThroughput), throughput, $"2 to {int.MaxValue}"));
        }

        CheckRange(scene, nameof(LlmSceneOptions.BreakerSamplingMs), settings.BreakerSamplingMs, GuardLimits.MinBreakerMs, GuardLimits.MaxMilliseconds, failures);
        CheckRange(scene, nameof(LlmSceneOptions.BreakerBreakMs), settings.BreakerBreakMs, GuardLimits.MinBreakerMs, GuardLimits.MaxMilliseconds, failures);
        CheckRange(scene, nameof(LlmSceneOptions.MaxConcurrency), settings.MaxConcurrency, int.MaxValue, failures);
        CheckRange(scene, nameof(LlmSceneOptions.MaxQueue), settings.MaxQueue, int.MaxValue, failures);
        CheckRange(scene, nameof(LlmSceneOptions.RateLimit), settings.RateLimit, int.MaxValue, failures);
        CheckRange(scene, nameof(LlmSceneOptions.RateLimitWindowMs), settings.RateLimitWindowMs, 1, GuardLimits.MaxMilliseconds, failures);
        CheckRange(scene, nameof(LlmSceneOptions.TenantMaxConcurrency), settings.TenantMaxConcurrency, int.MaxValue, failures);
        CheckRange(scene, nameof(LlmSceneOptions.TenantRateLimit), settings.TenantRateLimit, int.MaxValue, failures);
        if (settings.BreakerFailureRatio is null
            && (settings.BreakerMinimumThroughput ?? settings.BreakerSamplingMs ?? settings.BreakerBreakMs) is not null
            && !BreakerCompiledIn(scene))
        {
            // The other three only shape a breaker; without a ratio there is none, and the settings would silently do nothing.
            failures.Add($"LlmGuard:Scenes:{scene}: a Breaker setting is set but BreakerFailureRatio is not, here or on a [Guarded] attribute of the scene; allowed: set BreakerFailureRatio (above 0, up to 1) to turn the breaker on.");
        }

        if (settings.RateLimitWindowMs is not null && settings.RateLimit is null or 0 && settings.TenantRateLimit is null or 0)
        {
            // The window only shapes a rate limit; without RateLimit there is none, and the setting would silently do nothing.
            failures.Add($"LlmGuard:Scenes:{scene}:RateLimitWindowMs is set but neither RateLimit nor TenantRateLimit is; allowed: set RateLimit or TenantRateLimit (at least 1) to turn a rate limit on, or remove RateLimitWindowMs.");
        }

        if (settings.BreakerFailureRatio is not null && HasNoTimeout(scene, settings))
        {
            // The breaker lets one probe through when half-open and refuses everything else until it ends: a probe that
            // hangs without a timeout would keep the scene refusing for ever.
            failures.Add($"LlmGuard:Scenes:{scene}:BreakerFailureRatio is set but the scene's TimeoutMs is 0 (no timeout), so a hung half-open probe would keep the breaker refusing every execution for ever; allowed: a TimeoutMs above 0 with a breaker.");
        }
    }

    // The configured timeout, else each method's attribute timeout.
    private static bool HasNoTimeout(string scene, LlmSceneOptions settings)
    {
        if (settings.TimeoutMs is int timeoutMs)
        {
            return timeoutMs == 0;
        }

        foreach (GuardScene method in GuardSceneManifest.Scenes)
        {
            if (method.TimeoutMs == 0 && string.Equals(method.Scene, scene, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    // A ratio on the attribute of one of the scene's methods turns the breaker on too.
    private static bool BreakerCompiledIn(string scene)
    {
        foreach (GuardScene method in GuardSceneManifest.Scenes)
        {
            if (method.BreakerFailureRatio > 0 && string.Equals(method.Scene, scene, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static void CheckTimeout(string scene, string key, int? value, List<string> failures)
    {
        if (value is int timeout && timeout != 0 && (timeout < GuardLimits.MinTimeoutMs || timeout > GuardLimits.MaxMilliseconds))
        {
            failures.Add(OutOfRange(scene, key, timeout, $"0 (no timeout) or {GuardLimits.MinTimeoutMs} to {GuardLimits.MaxMilliseconds}"));
        }
    }

    private static void CheckRange(string scene, string key, int? value, int min, int max, List<string> failures)
    {
        if (value is int number && (number < min || number > max))
        {
            failures.Add(OutOfRange(scene, key, number, $"{min} to {max}"));
        }
    }

    private static bool CheckRange(string scene, string key, int? value, int max, List<string> failures)
    {
        if (value is int number && (number < 0 || number > max))
        {
            failures.Add(OutOfRange(scene, key, number, $"0 to {max}"));
            return false;
        }

        return true;
    }

    private static string OutOfRange(string scene, string key, int value, string allowed) =>
        $"LlmGuard:Scenes:{scene}:{key} is {value.ToString(CultureInfo.InvariantCulture)}, out of range; allowed: {allowed}.";

    private static string KnownScenes()
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (GuardScene method in GuardSceneManifest.Scenes)
        {
            names.Add(method.Scene);
        }

        return names.Count == 0 ? "none (no assembly compiled by the LlmGuard generator has run yet)" : string.Join(", ", names);
    }
}
