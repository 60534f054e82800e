using System;
using System.Runtime.CompilerServices;

namespace LlmGuard.Streaming;

/// <summary>
/// The <see cref="TimeoutException"/> a guarded stream's deadline raises, recognised by the attempt telemetry as a
/// timeout (as Polly's timeout of a call's attempt is) while its consumers see a plain <see cref="TimeoutException"/>.
/// </summary>
internal static class StreamDeadline
{
    // Weak: a deadline's exception lives as long as whoever holds it, and the mark adds nothing to its public state.
    private static readonly ConditionalWeakTable<Exception, object> s_deadlines = new();

    public static TimeoutException Passed(TimeSpan timeout, OperationCanceledException cancelled)
    {
        var exception = new TimeoutException($"The guarded stream produced no item within {timeout.TotalMilliseconds} ms.", cancelled);
        s_deadlines.AddOrUpdate(exception, s_deadlines);
        return exception;
    }

    public static bool IsDeadline(Exception? exception) => exception is TimeoutException && s_deadlines.TryGetValue(exception, out _);
}
