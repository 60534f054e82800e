using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging.Abstractions;
using TicketDesk.Help;

namespace TicketDesk.Tests;

/// <summary>How <see cref="AnswerEvents"/> ends the event stream when the answer's stream fails or the customer leaves.</summary>
public sealed class AnswerEventsTests
{
    [Fact]
    public async Task A_model_request_cancelled_by_the_SDKs_own_HTTP_timeout_ends_the_events_with_an_error_event()
    {
        // HttpClient reports its Timeout as a TaskCanceledException, an OperationCanceledException the customer did not cause.
        IAsyncEnumerable<string> answer = FailAfter(["Thanks for your "], new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing."));

        List<SseItem<string>> events = await ReadAsync(AnswerEvents.From(answer, NullLogger.Instance, CancellationToken.None));

        Assert.Equal(["message", AnswerEvents.Error], events.Select(item => item.EventType));
        Assert.Equal("Thanks for your ", events[0].Data);
    }

    [Fact]
    public async Task A_customer_who_leaves_ends_the_events_without_an_error_event()
    {
        using var leaving = new CancellationTokenSource();
        await leaving.CancelAsync();
        IAsyncEnumerable<string> answer = FailAfter([], new OperationCanceledException(leaving.Token));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ReadAsync(AnswerEvents.From(answer, NullLogger.Instance, leaving.Token)));
    }

    private static async IAsyncEnumerable<string> FailAfter(string[] pieces, Exception failure, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (string piece in pieces)
        {
            yield return piece;
        }

        await Task.Yield();
        throw failure;
    }

    private static async Task<List<SseItem<string>>> ReadAsync(IAsyncEnumerable<SseItem<string>> events)
    {
        var read = new List<SseItem<string>>();
        await foreach (SseItem<string> item in events)
        {
            read.Add(item);
        }

        return read;
    }
}
