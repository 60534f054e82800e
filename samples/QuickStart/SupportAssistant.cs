using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard;
using Microsoft.Extensions.AI;

namespace QuickStart;

/// <summary>The business code: guarded methods, the cores that call the model, one fallback.</summary>
public sealed partial class SupportAssistant(IChatClient chat)
{
    private const string Instructions = "You are a support agent for an online shop. Answer in one or two sentences.";

    private int _modelCalls;
    private int _answers;
    private int _fallbacks;

    /// <summary>
    /// Executions so far: each ends either in one answer from the model or in one call of the fallback, whoever
    /// and however many its callers are.
    /// </summary>
    public int Executions => Volatile.Read(ref _answers) + Fallbacks;

    /// <summary>Calls of the model by the cores: one per attempt.</summary>
    public int ModelCalls => Volatile.Read(ref _modelCalls);

    public int Fallbacks => Volatile.Read(ref _fallbacks);

    /// <summary>Duplicate triggers of one message share one model call.</summary>
    [Guarded(
        Scene = "support_reply",
        Key = "{message.SessionId}:{message.MessageId}",
        TimeoutMs = 2000,
        MaxRetries = 2,
        RetryDelayMs = 50,
        Fallback = nameof(HandOverToAgent))]
    public partial Task<string> ReplyAsync(SupportMessage message, CancellationToken cancellationToken = default);

    /// <summary>
    /// A user's burst of messages is answered once: the window closes 400 ms after the latest message (never more
    /// than 1.5 s after the first), and the model sees every message of the burst in order.
    /// </summary>
    [Guarded(
        Scene = "support_burst",
        Key = "{sessionId}",
        MergeWindowMs = 400,
        MergeMode = MergeMode.Sliding,
        MergeMaxWaitMs = 1500,
        TimeoutMs = 2000,
        MaxRetries = 2,
        RetryDelayMs = 50,
        Fallback = nameof(HandOverBurstToAgent))]
    public partial Task<string> ReplyToBurstAsync(string sessionId, [MergeAppend] string text, [MergeAppend] IReadOnlyList<int> messageIds, CancellationToken cancellationToken = default);

    // The cores are the only code that calls the model; the analyzer (LLMG100) would report a call anywhere else.
    private async Task<string> ReplyCoreAsync(SupportMessage message, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _modelCalls);
        ChatResponse response = await chat.GetResponseAsync(Prompt(message.Text), Options(), cancellationToken);
        Interlocked.Increment(ref _answers);
        return response.Text;
    }

    private async Task<string> ReplyToBurstCoreAsync(string sessionId, string text, IReadOnlyList<int> messageIds, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _modelCalls);
        ChatResponse response = await chat.GetResponseAsync(Prompt(text), Options(), cancellationToken);
        Interlocked.Increment(ref _answers);
        return response.Text;
    }

    private static ChatMessage[] Prompt(string text) =>
        [new ChatMessage(ChatRole.System, Instructions), new ChatMessage(ChatRole.User, text)];

    // A short answer keeps a real model within the attempt timeout.
    private static ChatOptions Options() => new() { MaxOutputTokens = 100 };

    private string HandOverToAgent(SupportMessage message, CancellationToken cancellationToken, Exception failure) =>
        HandOver(message.SessionId, failure);

    private string HandOverBurstToAgent(string sessionId, string text, IReadOnlyList<int> messageIds, CancellationToken cancellationToken, Exception failure) =>
        HandOver(sessionId, failure);

    private string HandOver(string sessionId, Exception failure)
    {
        Interlocked.Increment(ref _fallbacks);
        return $"Sorry, I could not answer that right now ({failure.GetType().Name}); a human agent will reply in {sessionId}.";
    }
}
