namespace LlmGuard.Infrastructure;

/// <summary>The result of an execution of a guarded method that returns <c>Task</c> or <c>ValueTask</c>.</summary>
public readonly struct VoidResult
{
}
