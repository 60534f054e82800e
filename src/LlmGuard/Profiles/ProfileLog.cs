using System;
using Microsoft.Extensions.Logging;

namespace LlmGuard.Profiles;

/// <summary>The log events of model profiles; their ids are stable API, documented in docs/production.md.</summary>
internal static partial class ProfileLog
{
    [LoggerMessage(EventId = 20, EventName = "ProfileModelBreakerOpened", Level = LogLevel.Warning,
        Message = "The circuit breaker of model {Model} of profile {Profile} opened; requests skip the model for {BreakDuration}")]
    public static partial void ModelBreakerOpened(ILogger logger, string model, string profile, TimeSpan breakDuration, Exception? exception);

    [LoggerMessage(EventId = 21, EventName = "ProfileUnavailable", Level = LogLevel.Error,
        Message = "Every model of profile {Profile} has an open circuit breaker: {Rejected} requests were rejected without calling a model since this was last written")]
    public static partial void ProfileUnavailable(ILogger logger, string profile, long rejected);

    [LoggerMessage(EventId = 24, EventName = "ProfileModelBreakerClosed", Level = LogLevel.Information,
        Message = "The circuit breaker of model {Model} of profile {Profile} closed after a successful probe; requests reach the model again")]
    public static partial void ModelBreakerClosed(ILogger logger, string model, string profile);
}
