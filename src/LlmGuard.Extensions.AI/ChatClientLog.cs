using Microsoft.Extensions.Logging;

namespace LlmGuard;

/// <summary>
/// The log events of <see cref="LlmGuardChatClient"/>; id 22 is stable API, listed in docs/production.md. Id 23 was
/// written while streaming requests passed through unguarded, and is not given to another event.
/// </summary>
internal static partial class ChatClientLog
{
    [LoggerMessage(EventId = 22, EventName = "ChatRequestNotShared", Level = LogLevel.Debug,
        Message = "A chat request of scene {Scene} runs in an execution of its own and is not cached: {Reason}")]
    public static partial void RequestNotShared(ILogger logger, string scene, string reason);
}
