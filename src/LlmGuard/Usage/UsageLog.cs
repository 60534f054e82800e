using System;
using Microsoft.Extensions.Logging;

namespace LlmGuard.Usage;

/// <summary>The log events of usage accounting; their ids are stable API, documented in docs/production.md.</summary>
internal static partial class UsageLog
{
    [LoggerMessage(EventId = 8, EventName = "BudgetExceeded", Level = LogLevel.Warning,
        Message = "Token budget {Budget} is spent: an execution of scene {Scene} was rejected without running its core.")]
    public static partial void BudgetExceeded(ILogger logger, string budget, string scene);

    [LoggerMessage(EventId = 9, EventName = "UsageRecordsDropped", Level = LogLevel.Warning,
        Message = "{Count} usage records were dropped because the usage queue was full; {Total} dropped since the runtime started. A usage sink is slower than the executions.")]
    public static partial void UsageRecordsDropped(ILogger logger, long count, long total);

    [LoggerMessage(EventId = 12, EventName = "UsageSinkFailed", Level = LogLevel.Error,
        Message = "Usage sink {Sink} failed to write {Count} usage records; they are lost, later records are delivered as usual.")]
    public static partial void UsageSinkFailed(ILogger logger, Exception exception, string sink, int count);

    [LoggerMessage(EventId = 25, EventName = "SharedBudgetsUnavailable", Level = LogLevel.Warning,
        Message = "{Count} exchanges with the shared token budgets failed; {Total} failed since the runtime started. Budgets count this instance's tokens and the last shared totals seen until the store answers again.")]
    public static partial void SharedBudgetsUnavailable(ILogger logger, Exception exception, long count, long total);
}
