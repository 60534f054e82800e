using System.Threading;
using LlmGuard.Execution;

namespace LlmGuard;

/// <summary>
/// How a guarded core whose result carries no token usage (a model SDK other than Microsoft.Extensions.AI) reports the
/// tokens it used, so budgets, prices and usage records count them.
/// </summary>
public static class LlmUsage
{
    // Set by the runtime around an execution only when something needs its usage, so a core that reports pays a
    // field read and nothing else otherwise.
    private static readonly AsyncLocal<ExecutionReport?> s_current = new();

    /// <summary>
    /// Adds tokens to the execution that is running in this async flow. Call it inside the core, once per model call;
    /// outside a guarded execution, or when nothing accounts for usage, it does nothing.
    /// </summary>
    /// <param name="inputTokens">The input (prompt) tokens of the model call.</param>
    /// <param name="outputTokens">The output (completion) tokens of the model call.</param>
    /// <param name="model">The model that was called, used to price the tokens; <see langword="null"/> keeps the model reported before.</param>
    /// <remarks>
    /// Every call adds, over every attempt of the execution: tokens spent by a failed attempt are spent too. Usage counts
    /// once per execution, however many callers it answers.
    /// </remarks>
    public static void Report(long inputTokens, long outputTokens, string? model = null) =>
        s_current.Value?.AddUsage(inputTokens, outputTokens, model);

    internal static ExecutionReport? Current
    {
        get => s_current.Value;
        set => s_current.Value = value;
    }
}
