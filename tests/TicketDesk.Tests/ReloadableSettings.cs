using System.Collections.Generic;
using Microsoft.Extensions.Configuration;

namespace TicketDesk.Tests;

/// <summary>
/// The last configuration source of a test host: its settings override appsettings.json, and <see cref="Change"/>
/// raises a configuration reload as an edited appsettings.json would.
/// </summary>
internal sealed class ReloadableSettings : ConfigurationProvider, IConfigurationSource
{
    public ReloadableSettings(IReadOnlyDictionary<string, string?>? initial)
    {
        foreach (KeyValuePair<string, string?> setting in initial ?? new Dictionary<string, string?>())
        {
            Data[setting.Key] = setting.Value;
        }
    }

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    /// <summary>Sets <paramref name="key"/> and reloads the host's configuration; its listeners run before this returns.</summary>
    public void Change(string key, string? value)
    {
        Data[key] = value;
        OnReload();
    }
}
