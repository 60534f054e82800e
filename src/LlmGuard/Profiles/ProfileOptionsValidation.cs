using System;
using System.Collections.Generic;
using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LlmGuard.Profiles;

/// <summary>
/// The checks a profile's settings pass at start-up and before a reload is applied; each failure names the profile,
/// the key and what is allowed. The ranges are those Polly's breaker and timeout accept.
/// </summary>
internal static class ProfileOptionsValidation
{
    /// <summary>The configuration section profiles bind from.</summary>
    public const string Section = "LlmGuard:Profiles";

    /// <summary>The most models one profile may have: a request tracks the models it tried in one 64-bit mask.</summary>
    public const int MaxModels = 64;

    private const int MinBreakerMs = 500;
    private const int MaxMs = 86_400_000;
    private const int MinTimeoutMs = 10;

    private static readonly string[] s_profileKeys =
    {
        nameof(LlmModelProfileOptions.Strategy),
        nameof(LlmModelProfileOptions.Models),
        nameof(LlmModelProfileOptions.BreakerFailureRatio),
        nameof(LlmModelProfileOptions.BreakerMinimumThroughput),
        nameof(LlmModelProfileOptions.BreakerSamplingMs),
        nameof(LlmModelProfileOptions.BreakerBreakMs),
        nameof(LlmModelProfileOptions.TimeoutMs),
    };

    private static readonly string[] s_modelKeys = { nameof(LlmProfileModelOptions.Client), nameof(LlmProfileModelOptions.Model) };

    /// <summary>Adds every failure of <paramref name="profiles"/> to <paramref name="failures"/>.</summary>
    /// <param name="profiles">The bound profiles.</param>
    /// <param name="section">The configuration they were bound from, whose keys are checked; <see langword="null"/> when none.</param>
    /// <param name="services">The container, asked whether each model's client is registered.</param>
    /// <param name="failures">Receives the failure messages.</param>
    public static void Validate(
        IDictionary<string, LlmModelProfileOptions> profiles, IConfigurationSection? section, IServiceProvider services, List<string> failures)
    {
        if (section is not null)
        {
            CheckKeys(section, failures);
        }

        foreach (KeyValuePair<string, LlmModelProfileOptions> profile in profiles)
        {
            if (profile.Value is { } settings)
            {
                ValidateProfile(profile.Key, settings, profiles, services, failures);
            }
        }
    }

    // The binder ignores keys that match no property, so "BreakerBreakMS " or "Modles" would silently keep a default.
    private static void CheckKeys(IConfigurationSection section, List<string> failures)
    {
        foreach (IConfigurationSection profile in section.GetChildren())
        {
            foreach (IConfigurationSection key in profile.GetChildren())
            {
                if (!IsOneOf(key.Key, s_profileKeys))
                {
                    failures.Add($"{Section}:{profile.Key}:{key.Key} is not a profile setting; the keys are {string.Join(", ", s_profileKeys)}.");
                    continue;
                }

                if (!string.Equals(key.Key, nameof(LlmModelProfileOptions.Models), StringComparison.OrdinalIgnoreCase))
                {
                    continue;
                }

                foreach (IConfigurationSection model in key.GetChildren())
                {
                    foreach (IConfigurationSection modelKey in model.GetChildren())
                    {
                        if (!IsOneOf(modelKey.Key, s_modelKeys))
                        {
                            failures.Add($"{Section}:{profile.Key}:Models:{model.Key}:{modelKey.Key} is not a model setting; the keys are {string.Join(", ", s_modelKeys)}.");
                        }
                    }
                }
            }
        }
    }

    private static void ValidateProfile(
        string name, LlmModelProfileOptions settings, IDictionary<string, LlmModelProfileOptions> profiles, IServiceProvider services, List<string> failures)
    {
        string prefix = $"{Section}:{name}";
        if (!Enum.IsDefined(settings.Strategy))
        {
            failures.Add($"{prefix}:Strategy is {settings.Strategy}; allowed: {string.Join(", ", Enum.GetNames<LlmProfileStrategy>())}.");
        }

        // Written so that NaN is out of range too.
        if (!(settings.BreakerFailureRatio > 0 && settings.BreakerFailureRatio <= 1))
        {
            failures.Add($"{prefix}:BreakerFailureRatio is {settings.BreakerFailureRatio.ToString(CultureInfo.InvariantCulture)}, out of range; allowed: above 0, up to 1.");
        }

        if (settings.BreakerMinimumThroughput < 2)
        {
            failures.Add(OutOfRange(prefix, nameof(settings.BreakerMinimumThroughput), settings.BreakerMinimumThroughput, $"2 to {int.MaxValue}"));
        }

        CheckRange(prefix, nameof(settings.BreakerSamplingMs), settings.BreakerSamplingMs, MinBreakerMs, failures);
        CheckRange(prefix, nameof(settings.BreakerBreakMs), settings.BreakerBreakMs, MinBreakerMs, failures);
        if (settings.TimeoutMs != 0 && (settings.TimeoutMs < MinTimeoutMs || settings.TimeoutMs > MaxMs))
        {
            failures.Add(OutOfRange(prefix, nameof(settings.TimeoutMs), settings.TimeoutMs, $"0 (no timeout) or {MinTimeoutMs} to {MaxMs}"));
        }

        if (settings.Models.Count is 0 or > MaxModels)
        {
            failures.Add($"{prefix}:Models has {settings.Models.Count.ToString(CultureInfo.InvariantCulture)} models; allowed: 1 to {MaxModels}.");
        }

        for (int i = 0; i < settings.Models.Count; i++)
        {
            ValidateModel($"{prefix}:Models:{i.ToString(CultureInfo.InvariantCulture)}", settings.Models[i], profiles, services, failures);
        }
    }

    private static void ValidateModel(
        string prefix, LlmProfileModelOptions? model, IDictionary<string, LlmModelProfileOptions> profiles, IServiceProvider services, List<string> failures)
    {
        if (model is null || (model.Client is null && model.Model is null))
        {
            failures.Add($"{prefix} names no model; set Client (the key of a keyed IChatClient service), Model (a model id), or both.");
            return;
        }

        if (model.Client is { } key)
        {
            // AddModelProfile registers a profile as the keyed client of its name: a model with that key would resolve
            // the profile while the profile resolves its models.
            if (profiles.ContainsKey(key))
            {
                failures.Add($"{prefix}:Client is '{key}', the name of a profile; allowed: the key of a keyed IChatClient that is not a profile.");
                return;
            }

            if (services.GetService<IServiceProviderIsKeyedService>() is { } keyed && !keyed.IsKeyedService(typeof(IChatClient), key))
            {
                failures.Add($"{prefix}:Client is '{key}', but no IChatClient is registered with that key; register it with AddKeyedSingleton<IChatClient>(\"{key}\", ...).");
            }
        }
        else if (services.GetService<IServiceProviderIsService>() is { } registered && !registered.IsService(typeof(IChatClient)))
        {
            failures.Add($"{prefix}:Client is not set, so the unkeyed IChatClient answers, but none is registered; register one or set Client to a keyed IChatClient's key.");
        }
    }

    private static void CheckRange(string prefix, string key, int value, int min, List<string> failures)
    {
        if (value < min || value > MaxMs)
        {
            failures.Add(OutOfRange(prefix, key, value, $"{min} to {MaxMs}"));
        }
    }

    private static string OutOfRange(string prefix, string key, int value, string allowed) =>
        $"{prefix}:{key} is {value.ToString(CultureInfo.InvariantCulture)}, out of range; allowed: {allowed}.";

    private static bool IsOneOf(string key, string[] keys) =>
        Array.FindIndex(keys, known => string.Equals(known, key, StringComparison.OrdinalIgnoreCase)) >= 0;
}
