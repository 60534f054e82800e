using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using LlmGuard;
using Microsoft.Extensions.AI;

namespace TicketDesk.Help;

/// <summary>
/// Streams the answer to a customer's question as the model writes it, for a help widget that shows the words as they
/// arrive (<c>GET /help/answer/stream</c>).
/// </summary>
public sealed partial class LiveHelp(IChatClient chat, GuardRuntime runtime)
{
    private const string Instructions =
        "You answer customers' questions about an online shop's orders, deliveries and refunds in one or two sentences.";

    /// <summary>
    /// The answer's text, piece by piece. Identical questions of one tenant asked while an answer streams read that one
    /// stream from its first piece, so a question asked by many customers at once is answered by one model request. The
    /// model gets 5 s to its first piece and 5 s between pieces; a failure before the first piece is retried once,
    /// after it the stream ends with <see cref="LlmGuard.Streaming.LlmStreamInterruptedException"/>, since the customer
    /// already reads part of the answer. A customer who leaves stops only their own stream; the model request is
    /// cancelled when nobody reads it any more.
    /// </summary>
    [Guarded(
        Scene = "answer_stream",
        Key = "{$tenant}:{question}",
        TimeoutMs = 5000,
        MaxRetries = 1,
        RetryDelayMs = 200)]
    public partial IAsyncEnumerable<string> StreamAnswerAsync(string question, CancellationToken cancellationToken = default);

    private async IAsyncEnumerable<string> StreamAnswerCoreAsync(string question, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (ChatResponseUpdate update in chat.GetStreamingResponseAsync(
            [new ChatMessage(ChatRole.System, Instructions), new ChatMessage(ChatRole.User, question)],
            new ChatOptions { MaxOutputTokens = 200 },
            cancellationToken))
        {
            // The role, the finish reason and the usage arrive as updates without text; the customer sees only text.
            if (update.Text.Length > 0)
            {
                yield return update.Text;
            }
        }
    }
}
