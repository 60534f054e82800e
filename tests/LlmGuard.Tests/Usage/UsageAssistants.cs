using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;

namespace LlmGuard.Tests.Usage;

/// <summary>A chat assistant on Microsoft.Extensions.AI: its results carry their token usage, which the generated reader reads.</summary>
public partial class ChatAssistant(GuardRuntime runtime, Func<string, CancellationToken, Task<ChatResponse>> core)
{
    [Guarded(Scene = "chat", Key = "{question}", TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<ChatResponse> AskAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = "chat", Key = "{question}", TimeoutMs = 0, MaxRetries = 0, Fallback = nameof(Apologize))]
    public partial Task<ChatResponse> AskWithFallbackAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = "chat_merged", Key = "{conversation}", MergeWindowMs = 1000, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<ChatResponse> ReplyAsync(string conversation, [NotInKey] string message, CancellationToken cancellationToken = default);

    [Guarded(Scene = "chat_unshared", SingleFlight = false, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<ChatResponse<Verdict>> JudgeAsync(string question, CancellationToken cancellationToken = default);

    private Task<ChatResponse> AskCoreAsync(string question, CancellationToken cancellationToken) => core(question, cancellationToken);

    // A structured answer: M.E.AI's ChatResponse<T> carries the usage of the response it wraps.
    private async Task<ChatResponse<Verdict>> JudgeCoreAsync(string question, CancellationToken cancellationToken) =>
        new(await core(question, cancellationToken), System.Text.Json.JsonSerializerOptions.Default);

    private Task<ChatResponse> AskWithFallbackCoreAsync(string question, CancellationToken cancellationToken) => core(question, cancellationToken);

    private Task<ChatResponse> ReplyCoreAsync(string conversation, string message, CancellationToken cancellationToken) => core(message, cancellationToken);

    private static ChatResponse Apologize(string question, Exception exception) =>
        new(new ChatMessage(ChatRole.Assistant, "fallback:" + exception.GetType().Name));
}

public sealed record Verdict(bool Refund);

/// <summary>An assistant on an SDK whose results carry no usage: its core reports the tokens itself.</summary>
public partial class ReportingAssistant(GuardRuntime runtime, Func<string, CancellationToken, Task<string>> core)
{
    [Guarded(Scene = "reporting", Key = "{question}", TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> AskAsync(string question, CancellationToken cancellationToken = default);

    private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => core(question, cancellationToken);
}
