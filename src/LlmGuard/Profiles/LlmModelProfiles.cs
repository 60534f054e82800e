using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using LlmGuard.Configuration;
using LlmGuard.Failures;
using LlmGuard.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace LlmGuard.Profiles;

/// <summary>
/// The model profiles of a container, by name, as configured under <c>LlmGuard:Profiles</c>; registered by
/// <c>AddLlmGuard()</c>. A reload that changes a profile applies to requests that start after it.
/// </summary>
public sealed class LlmModelProfiles : IDisposable
{
    private readonly IServiceProvider _services;
    private readonly IOptionsMonitor<LlmGuardOptions> _options;
    private readonly Dictionary<string, LlmModelProfile> _profiles = new(StringComparer.Ordinal);
    private readonly Lazy<ProfileEnvironment> _environment;
    private readonly IDisposable? _reloads;

    internal LlmModelProfiles(IServiceProvider services)
    {
        _services = services;
        _options = services.GetRequiredService<IOptionsMonitor<LlmGuardOptions>>();
        _environment = new Lazy<ProfileEnvironment>(CreateEnvironment);
        _reloads = _options.OnChange(Reconfigure);
    }

    /// <summary>Gets the profile named <paramref name="name"/>, the same instance on every call.</summary>
    /// <param name="name">The profile's name, its key under <c>LlmGuard:Profiles</c>.</param>
    /// <returns>The profile.</returns>
    /// <exception cref="InvalidOperationException">No profile has that name.</exception>
    public LlmModelProfile Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        lock (_profiles)
        {
            if (_profiles.TryGetValue(name, out LlmModelProfile? profile))
            {
                return profile;
            }

            IDictionary<string, LlmModelProfileOptions> configured = _options.CurrentValue.Profiles;
            if (!configured.TryGetValue(name, out LlmModelProfileOptions? options) || options is null)
            {
                string known = configured.Count == 0 ? "none" : string.Join(", ", configured.Keys);
                throw new InvalidOperationException(
                    $"No model profile is named '{name}'; the profiles are {known}. Configure it under LlmGuard:Profiles:{name} or with AddModelProfile(\"{name}\", ...).");
            }

            profile = new LlmModelProfile(name, options, _services, _environment.Value);
            _profiles.Add(name, profile);
            return profile;
        }
    }

    /// <summary>Stops following reloads of the configuration.</summary>
    public void Dispose() => _reloads?.Dispose();

    // A profile that a reload removes keeps its last models: the objects that hold it were built for it, and failing
    // them would turn a configuration edit into an outage.
    private void Reconfigure(LlmGuardOptions options)
    {
        lock (_profiles)
        {
            foreach (KeyValuePair<string, LlmModelProfile> profile in _profiles)
            {
                if (options.Profiles.TryGetValue(profile.Key, out LlmModelProfileOptions? settings) && settings is not null)
                {
                    profile.Value.Apply(settings);
                }
            }
        }
    }

    // The models of each profile's current plan: a model a reload removed is no longer reported.
    private IEnumerable<Measurement<int>> ObserveBreakers()
    {
        LlmModelProfile[] profiles;
        lock (_profiles)
        {
            profiles = [.. _profiles.Values];
        }

        foreach (LlmModelProfile profile in profiles)
        {
            foreach (ProfileModel model in profile.Plan.Models)
            {
                yield return new Measurement<int>(
                    model.GaugeState,
                    new KeyValuePair<string, object?>(ProfileTelemetry.ProfileTag, profile.Name),
                    new KeyValuePair<string, object?>(TelemetryNames.ModelTag, model.Name));
            }
        }
    }

    private ProfileEnvironment CreateEnvironment()
    {
        GuardRuntime? runtime = _services.GetService<GuardRuntime>();
        Counter<long>? requests = runtime?.Telemetry.Meter.CreateCounter<long>(
            ProfileTelemetry.Requests, "{request}", "Requests model profiles sent to a model, by profile, model and how they ended; rejected when every model's breaker was open.");
        runtime?.Telemetry.Meter.CreateObservableGauge(
            ProfileTelemetry.BreakerState, ObserveBreakers, "{state}", "The circuit breaker of each model of each model profile: 0 closed, 1 half-open, 2 open.");
        return new ProfileEnvironment(
            runtime?.TimeProvider ?? _services.GetService<TimeProvider>() ?? TimeProvider.System,
            runtime?.FailureClassifier ?? _services.GetService<FailureClassifier>(),
            _services.GetService<ILoggerFactory>()?.CreateLogger(TelemetryNames.Source),
            requests);
    }
}
