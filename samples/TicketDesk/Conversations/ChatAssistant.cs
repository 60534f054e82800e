using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard;
using Microsoft.Extensions.AI;

namespace TicketDesk.Conversations;

/// <summary>Answers the customer in a support chat.</summary>
public sealed partial class ChatAssistant(IChatClient chat, GuardRuntime runtime)
{
    private const string Instructions =
        "You are a support agent. Answer every message the customer sent, in one or two sentences.";

    /// <summary>
    /// Customers type in bursts ("hi" / "my order" / "it never came"): the window closes 400 ms after the latest
    /// message of a conversation, never more than 1.5 s after the first, and one model call answers the whole
    /// burst. The conversation comes from the call context, set by the endpoint, so the window is per
    /// conversation and per tenant.
    /// </summary>
    [Guarded(
        Scene = "chat_reply",
        Key = "{$tenant}:{$conversation}",
        MergeWindowMs = 400,
        MergeMode = MergeMode.Sliding,
        MergeMaxWaitMs = 1500,
        TimeoutMs = 5000,
        MaxRetries = 2,
        RetryDelayMs = 200,
        Fallback = nameof(HandOverToAgent))]
    public partial Task<ChatReply> ReplyAsync([MergeAppend] string message, CancellationToken cancellationToken = default);

    private async Task<ChatReply> ReplyCoreAsync(string message, CancellationToken cancellationToken)
    {
        ChatResponse response = await chat.GetResponseAsync(
            [new ChatMessage(ChatRole.System, Instructions), new ChatMessage(ChatRole.User, message)],
            new ChatOptions { MaxOutputTokens = 200 },
            cancellationToken);
        return new ChatReply(response.Text, Source: "model") { Usage = response.Usage, ModelId = response.ModelId };
    }

    private static ChatReply HandOverToAgent(string message, CancellationToken cancellationToken, Exception failure) =>
        new("Sorry, I cannot answer right now; a support agent will reply in this conversation shortly.", Source: "fallback");
}
