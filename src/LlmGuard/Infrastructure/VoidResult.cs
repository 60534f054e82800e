using System.Threading.Tasks;

namespace LlmGuard.Infrastructure;

/// <summary>The result of an execution of a guarded method that returns <c>Task</c> or <c>ValueTask</c>.</summary>
public readonly struct VoidResult
{
    /// <summary>Completes with no result when <paramref name="task"/> completes; used by generated attempts and fallbacks.</summary>
    /// <param name="task">The work of a core or fallback that produces no result.</param>
    /// <returns>A value task that completes, fails or is cancelled as <paramref name="task"/> does.</returns>
    public static ValueTask<VoidResult> When(Task task) =>
        task.IsCompletedSuccessfully ? default : AwaitAsync(task);

    /// <inheritdoc cref="When(Task)"/>
    public static ValueTask<VoidResult> When(ValueTask task)
    {
        if (task.IsCompletedSuccessfully)
        {
            // Consumed, so a pooled source behind the value task is returned to its pool.
            task.GetAwaiter().GetResult();
            return default;
        }

        return AwaitAsync(task);
    }

    private static async ValueTask<VoidResult> AwaitAsync(Task task)
    {
        await task.ConfigureAwait(false);
        return default;
    }

    private static async ValueTask<VoidResult> AwaitAsync(ValueTask task)
    {
        await task.ConfigureAwait(false);
        return default;
    }
}
