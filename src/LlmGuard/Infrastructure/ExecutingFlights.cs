using System.Threading;
using LlmGuard.Telemetry;

namespace LlmGuard.Infrastructure;

/// <summary>
/// An execution, as the recursion check sees it (who runs it and for which key) and as its callers read its report.
/// </summary>
internal interface IExecutingFlight : IReportedExecution
{
    IExecutingFlight? Parent { get; }

    /// <summary>The singleflight or merge window that runs the execution.</summary>
    object Owner { get; }

    string Key { get; }

    /// <summary>
    /// Whether the execution's run has not ended yet. Background work it started keeps it in its flow after that,
    /// and may then call the same key without waiting for itself.
    /// </summary>
    bool IsRunning { get; }

    /// <summary>Gets how many callers wait for the execution now: those it answers if it ended at this moment.</summary>
    int Callers { get; }
}

/// <summary>
/// The executions the current asynchronous flow runs inside, innermost first, across every guarded method, so
/// that a call that would wait for its own execution (directly, or through other guarded methods) is refused.
/// </summary>
internal static class ExecutingFlights
{
    private static readonly AsyncLocal<IExecutingFlight?> s_innermost = new();

    /// <summary>Gets the execution the current flow runs inside, or <see langword="null"/> outside every execution.</summary>
    public static IExecutingFlight? Innermost => s_innermost.Value;

    /// <summary>Marks <paramref name="flight"/> as executing in the current flow and returns the one it runs inside.</summary>
    public static IExecutingFlight? Enter(IExecutingFlight flight)
    {
        IExecutingFlight? parent = s_innermost.Value;
        s_innermost.Value = flight;
        return parent;
    }

    /// <summary>Whether the current flow runs inside a still running execution of <paramref name="owner"/> for <paramref name="key"/>.</summary>
    public static bool Contains(object owner, string key)
    {
        for (IExecutingFlight? executing = s_innermost.Value; executing is not null; executing = executing.Parent)
        {
            if (executing.IsRunning && ReferenceEquals(executing.Owner, owner) && executing.Key == key)
            {
                return true;
            }
        }

        return false;
    }
}
