using Microsoft.Extensions.Logging;

namespace LlmGuard.Configuration;

/// <summary>The log events of run-time configuration, in the <c>LlmGuard</c> category.</summary>
internal static partial class ConfigurationLog
{
    public const string Category = Telemetry.TelemetryNames.Source;

    [LoggerMessage(EventId = 10, EventName = "ConfigurationReloaded", Level = LogLevel.Information,
        Message = "LlmGuard configuration reloaded; calls that start from now on use the new settings of the scenes {Scenes}")]
    public static partial void ConfigurationReloaded(ILogger logger, System.Collections.Generic.IReadOnlyList<string> scenes);

    [LoggerMessage(EventId = 11, EventName = "ConfigurationRejected", Level = LogLevel.Error,
        Message = "LlmGuard configuration reload rejected; calls keep the previous settings. {Reason}")]
    public static partial void ConfigurationRejected(ILogger logger, string reason);
}
