using System;
using System.Collections.Generic;

namespace LlmGuard.Configuration;

/// <summary>
/// The run-time settings of a <see cref="GuardRuntime"/>, bound from the configuration section <c>LlmGuard</c> when the
/// runtime is hosted.
/// </summary>
public sealed class LlmGuardOptions
{
    /// <summary>Gets the settings of each scene, by scene name; each overrides its scene's compile-time defaults.</summary>
    public IDictionary<string, LlmSceneOptions> Scenes { get; } = new Dictionary<string, LlmSceneOptions>(StringComparer.Ordinal);

    /// <summary>
    /// Gets or sets whether <c>llmguard.calls</c> carries the tag <c>llmguard.tenant</c>, the tenant of the call's
    /// <see cref="LlmCallContext"/>. Off by default: every tenant adds a time series to each counter, so turn it on only
    /// when tenants are few.
    /// </summary>
    public bool IncludeTenantInMetrics { get; set; }
}
