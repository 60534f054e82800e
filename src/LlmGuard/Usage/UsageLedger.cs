using LlmGuard.Execution;

namespace LlmGuard.Usage;

/// <summary>
/// Where the executions of a runtime account for their tokens: budgets admit or reject an execution before it runs,
/// and each completed execution's usage goes to the registered sinks and prices.
/// </summary>
internal sealed class UsageLedger
{
    // Stays false until budgets, prices or sinks are configured.
    private readonly bool _active = false;

    /// <summary>Gets whether anything (a budget, a price, a sink) needs the executions' usage.</summary>
    public bool IsActive => _active;

    /// <summary>Returns the refusal of a budget that this execution would exceed, or <see langword="null"/> to let it run.</summary>
    public LlmBudgetExceededException? TryAdmit(string scene, LlmCallContext? context) => _active ? null : null;

    /// <summary>Accounts for one completed execution, off the caller's path.</summary>
    public void Complete(ExecutionReport report) => _ = _active;
}
