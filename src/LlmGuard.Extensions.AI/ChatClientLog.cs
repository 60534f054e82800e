using Microsoft.Extensions.Logging;

namespace LlmGuard;

/// <summary>The log events of <see cref="LlmGuardChatClient"/>; ids 22-23 are stable API, listed in docs/production.md.</summary>
internal static partial class ChatClientLog
{
    [LoggerMessage(EventId = 22, EventName = "ChatRequestNotShared", Level = LogLevel.Debug,
        Message = "A chat request of scene {Scene} runs in an execution of its own and is not cached: {Reason}")]
    public static partial void RequestNotShared(ILogger logger, string scene, string reason);

    [LoggerMessage(EventId = 23, EventName = "ChatStreamingNotGuarded", Level = LogLevel.Information,
        Message = "Streaming chat requests of scene {Scene} pass through LlmGuard unguarded; logged once per client")]
    public static partial void StreamingNotGuarded(ILogger logger, string scene);
}
