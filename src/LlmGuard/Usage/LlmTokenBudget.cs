using System;

namespace LlmGuard.Usage;

/// <summary>
/// A token budget: at most about <see cref="Tokens"/> tokens per <see cref="Period"/> for each scene, tenant or user
/// (<see cref="Per"/>). An execution is refused once the period's tokens are spent.
/// </summary>
/// <remarks>
/// The budget counts the tokens of completed executions, once per execution. The size of an execution is only known
/// once it has run, so the execution that spends the last tokens may overshoot the budget; the executions after it
/// are refused until the period ends. A period starts with the first execution that the budget counts (for that scene,
/// tenant or user) and lasts <see cref="Period"/> on the runtime's clock; the next execution after it starts a new one.
/// </remarks>
public sealed class LlmTokenBudget
{
    /// <summary>Gets or sets who the budget is counted for; <see cref="LlmBudgetScope.Scene"/> by default.</summary>
    public LlmBudgetScope Per { get; set; }

    /// <summary>Gets or sets the scene the budget applies to; <see langword="null"/> (the default) applies it to every scene.</summary>
    public string? Scene { get; set; }

    /// <summary>Gets or sets the tokens (input and output) allowed per period; once spent, executions are refused.</summary>
    public long Tokens { get; set; }

    /// <summary>Gets or sets the length of a period; a budget without a positive period limits nothing.</summary>
    public TimeSpan Period { get; set; }
}
