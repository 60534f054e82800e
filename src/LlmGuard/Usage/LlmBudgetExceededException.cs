using LlmGuard.Protection;

namespace LlmGuard.Usage;

/// <summary>
/// The exception a guarded call without a fallback receives when a token budget refused its execution: running it
/// would exceed the budget named by <see cref="Budget"/>.
/// </summary>
public sealed class LlmBudgetExceededException : LlmCallRejectedException
{
    /// <summary>Creates the exception for the budget <paramref name="budget"/>.</summary>
    /// <param name="scene">The scene whose execution was refused.</param>
    /// <param name="budget">The name of the budget that refused the call.</param>
    /// <param name="message">What was refused and why.</param>
    public LlmBudgetExceededException(string scene, string budget, string message)
        : base(scene, message)
    {
        Budget = budget;
    }

    /// <summary>Gets the name of the budget that refused the call.</summary>
    public string Budget { get; }
}
