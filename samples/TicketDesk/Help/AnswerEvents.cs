using System;
using System.Collections.Generic;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading;
using LlmGuard.Streaming;
using Microsoft.Extensions.Logging;

namespace TicketDesk.Help;

/// <summary>The server-sent events of <c>GET /help/answer/stream</c>.</summary>
public static partial class AnswerEvents
{
    /// <summary>The event that ends a complete answer.</summary>
    public const string Done = "done";

    /// <summary>The event that ends an answer the model could not finish; its data says what the customer can do.</summary>
    public const string Error = "error";

    /// <summary>
    /// One <c>message</c> event per piece of the answer, then <see cref="Done"/>; or, when the model fails, the pieces
    /// that arrived and <see cref="Error"/>, so a client can tell a complete answer from a cut one.
    /// </summary>
    /// <param name="answer">The guarded stream of the answer.</param>
    /// <param name="logger">Receives the failure behind an <see cref="Error"/> event, which the customer only sees as an apology.</param>
    /// <param name="cancellationToken">The request's: the customer went away.</param>
    public static async IAsyncEnumerable<SseItem<string>> From(
        IAsyncEnumerable<string> answer, ILogger logger, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        IAsyncEnumerator<string> pieces = answer.GetAsyncEnumerator(cancellationToken);
        Exception? failure = null;
        try
        {
            while (true)
            {
                // A yield cannot sit in a try that has a catch: the failure is kept and becomes the last event.
                bool more;
                try
                {
                    more = await pieces.MoveNextAsync();
                }
                catch (Exception modelFailure) when (!cancellationToken.IsCancellationRequested)
                {
                    // Only the customer's leaving ends the response without an event: an SDK's HTTP timeout is an
                    // OperationCanceledException too, and the customer still reading should learn the answer failed.
                    failure = modelFailure;
                    break;
                }

                if (!more)
                {
                    break;
                }

                yield return new SseItem<string>(pieces.Current);
            }
        }
        finally
        {
            await pieces.DisposeAsync();
        }

        if (failure is not null)
        {
            AnswerFailed(logger, failure);
            yield return new SseItem<string>(
                failure is LlmStreamInterruptedException
                    ? "The answer was cut off; please ask again."
                    : "We could not answer right now; please try again in a moment.",
                Error);
            yield break;
        }

        yield return new SseItem<string>(string.Empty, Done);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "A streamed help answer ended with an error event")]
    private static partial void AnswerFailed(ILogger logger, Exception exception);
}
