using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Guarded;

/// <summary>A chat desk whose users send several messages in a row; each burst should cost one model call.</summary>
public partial class ChatDesk(GuardRuntime runtime, ScriptedModel model)
{
    // A fixed two-second window: the latest message wins.
    [Guarded(Key = "{sessionId}", MergeWindowMs = 2000, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<Reply> ReplyAsync(string sessionId, [NotInKey] string message, CancellationToken cancellationToken = default);

    // Typing-aware: quiet for 500 ms, but never more than 1.5 s; every message reaches the model.
    [Guarded(Key = "{sessionId}", MergeWindowMs = 500, MergeMode = MergeMode.Sliding, MergeMaxWaitMs = 1500, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<Reply> ReplyToAllAsync(string sessionId, [MergeAppend(Separator = " / ")] string messages, [MergeAppend] IReadOnlyList<int> messageIds);

    // A newer burst cancels the answer nobody will read any more.
    [Guarded(Key = "{sessionId}", MergeWindowMs = 1000, Supersede = true, TimeoutMs = 0, MaxRetries = 0)]
    public partial ValueTask<Reply> ReplyLatestAsync(string sessionId, [NotInKey] string message, CancellationToken cancellationToken = default);

    // Fire-and-forget status pushes: only the latest status within the window is sent.
    [Guarded(Key = "{ticketId}", MergeWindowMs = 1000, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task PushStatusAsync(string ticketId, [NotInKey] string status);

    // A merged execution runs under the same attempts and fallback as any other.
    [Guarded(Key = "{sessionId}", MergeWindowMs = 1000, TimeoutMs = 500, MaxRetries = 1, RetryDelayMs = 0, Fallback = nameof(Apologize))]
    public partial Task<Reply> ReplyResilientlyAsync(string sessionId, [NotInKey] string message);

    private async Task<Reply> ReplyResilientlyCoreAsync(string sessionId, string message) =>
        new(await model.RespondAsync(sessionId + "|" + message, CancellationToken.None));

    private static Reply Apologize(string sessionId, string message, System.Exception failure) =>
        new($"Sorry ({failure.GetType().Name}), about: {message}");

    private async Task<Reply> ReplyCoreAsync(string sessionId, string message, CancellationToken cancellationToken) =>
        new(await model.RespondAsync(sessionId + "|" + message, cancellationToken));

    private async Task<Reply> ReplyToAllCoreAsync(string sessionId, string messages, IReadOnlyList<int> messageIds) =>
        new(await model.RespondAsync(sessionId + "|" + messages + "|" + string.Join(",", messageIds), CancellationToken.None));

    private async ValueTask<Reply> ReplyLatestCoreAsync(string sessionId, string message, CancellationToken cancellationToken) =>
        new(await model.RespondAsync(sessionId + "|" + message, cancellationToken));

    private async Task PushStatusCoreAsync(string ticketId, string status) =>
        await model.RespondAsync(ticketId + "|" + status, CancellationToken.None);
}
