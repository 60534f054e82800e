using System;
using System.Collections.Generic;
using LlmGuard.Profiles;
using LlmGuard.Usage;

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
    /// <summary>The default of <see cref="UsageQueueCapacity"/>.</summary>
    public const int DefaultUsageQueueCapacity = 1024;

    /// <summary>
    /// Gets the price of each model's tokens, by model id (case-insensitive), which turn the tokens of a usage record
    /// into its <see cref="LlmUsageRecord.Cost"/>. Prices are in the team's own currency.
    /// </summary>
    public IDictionary<string, LlmModelPrice> Prices { get; } = new Dictionary<string, LlmModelPrice>(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Gets the token budgets, by budget name: an execution that a spent budget applies to is rejected without running
    /// its core, and its callers get the fallback or an <see cref="LlmBudgetExceededException"/> naming the budget.
    /// </summary>
    public IDictionary<string, LlmTokenBudget> Budgets { get; } = new Dictionary<string, LlmTokenBudget>(StringComparer.Ordinal);

    /// <summary>
    /// Gets or sets how many usage records may wait for the usage sinks; when that many wait, further records are
    /// dropped and counted rather than slow a caller. <see cref="DefaultUsageQueueCapacity"/> by default; at least 1.
    /// </summary>
    public int UsageQueueCapacity { get; set; } = DefaultUsageQueueCapacity;

    /// <summary>
    /// Gets the model profiles, by profile name: each spreads requests over several models and skips a model whose
    /// circuit breaker is open. Obtained through <see cref="LlmModelProfiles"/>.
    /// </summary>
    public IDictionary<string, LlmModelProfileOptions> Profiles { get; } = new Dictionary<string, LlmModelProfileOptions>(StringComparer.Ordinal);
}
