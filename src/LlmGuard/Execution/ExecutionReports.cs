namespace LlmGuard.Execution;

/// <summary>Decides, once per execution, whether anything needs a report of what it did.</summary>
internal static class ExecutionReports
{
    // The one place that decides, so every consumer of reports adds its own check here and an execution nobody
    // watches pays a field read and no allocation.
    public static ExecutionReport? Start<TResult>(MethodPolicy<TResult> policy) =>
        policy.Runtime.Usage.IsActive ? new ExecutionReport(policy.Method.Scene, LlmCallContext.Current) : null;
}
