using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.ServerSentEvents;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using Simulation;
using TicketDesk.Help;

namespace TicketDesk.Tests;

/// <summary>
/// <c>GET /help/answer/stream</c> through the real host: a guarded stream of the model's answer as server-sent events,
/// shared by identical questions of a tenant, and cancelled at the provider once no customer reads it.
/// </summary>
public sealed class StreamingAnswerTests
{
    private const string Question = "Where is my parcel?";

    // SimulatedAnswers' reply to the question, in the simulated provider's chunks of three words.
    private static readonly string[] s_pieces = ["Thanks for your ", "1 message(s): Where ", "is my parcel?. ", "An agent is ", "looking into it."];

    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    // LlmGuard:Scenes:answer_stream:FirstItemTimeoutMs in appsettings.json.
    private static readonly TimeSpan s_firstPieceDeadline = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task The_answer_arrives_as_one_event_per_piece_in_order_and_ends_with_done()
    {
        // On a clock that stands still, no deadline of the stream can pass while the test reads it.
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(timeProvider: new FakeTimeProvider());
        using HttpClient client = host.CreateClient(tenant: "acme");
        await using AnswerStream stream = await AnswerStream.OpenAsync(client, Question);

        List<SseItem<string>> events = await stream.ReadToEndAsync();

        Assert.Equal("text/event-stream", stream.MediaType);
        Assert.Equal([.. s_pieces, ""], events.Select(item => item.Data));
        Assert.Equal([.. s_pieces.Select(_ => "message"), AnswerEvents.Done], events.Select(item => item.EventType));
        Assert.Equal("Thanks for your 1 message(s): Where is my parcel?. An agent is looking into it.", string.Concat(events.Select(item => item.Data)));
        SimulatedRequest request = Assert.Single(host.Provider.Received);
        Assert.True(request.Stream);
        Assert.Equal(Question, request.Prompt);
    }

    [Fact]
    public async Task Two_concurrent_identical_questions_of_a_tenant_stream_from_one_provider_request()
    {
        var release = new TaskCompletionSource();
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(
            options => options with { HoldStreamsAfterFirstChunkUntil = release.Task }, timeProvider: new FakeTimeProvider());
        using HttpClient ana = host.CreateClient(tenant: "acme", user: "ana");
        using HttpClient ben = host.CreateClient(tenant: "acme", user: "ben");
        await using AnswerStream first = await AnswerStream.OpenAsync(ana, Question);
        await using AnswerStream second = await AnswerStream.OpenAsync(ben, Question);

        Assert.Equal(s_pieces[0], (await first.ReadAsync()).Data);
        Assert.Equal(s_pieces[0], (await second.ReadAsync()).Data);
        release.SetResult();

        Assert.Equal([.. s_pieces[1..], ""], (await first.ReadToEndAsync()).Select(item => item.Data));
        Assert.Equal([.. s_pieces[1..], ""], (await second.ReadToEndAsync()).Select(item => item.Data));
        Assert.Equal(1, host.Provider.Requests);
    }

    [Fact]
    public async Task The_same_question_of_another_tenant_streams_from_its_own_provider_request()
    {
        var release = new TaskCompletionSource();
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(
            options => options with { HoldStreamsAfterFirstChunkUntil = release.Task }, timeProvider: new FakeTimeProvider());
        using HttpClient acme = host.CreateClient(tenant: "acme");
        using HttpClient globex = host.CreateClient(tenant: "globex");
        await using AnswerStream first = await AnswerStream.OpenAsync(acme, Question);
        await using AnswerStream second = await AnswerStream.OpenAsync(globex, Question);

        await first.ReadAsync();
        await second.ReadAsync();
        Assert.Equal(2, host.Provider.Requests);
        release.SetResult();

        Assert.Equal(AnswerEvents.Done, (await first.ReadToEndAsync())[^1].EventType);
        Assert.Equal(AnswerEvents.Done, (await second.ReadToEndAsync())[^1].EventType);
    }

    [Fact]
    public async Task A_customer_who_disconnects_cancels_the_provider_stream_when_nobody_else_reads_it()
    {
        var neverReleased = new TaskCompletionSource();
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(
            options => options with { HoldStreamsAfterFirstChunkUntil = neverReleased.Task }, timeProvider: new FakeTimeProvider());
        using HttpClient client = host.CreateClient(tenant: "acme");
        AnswerStream stream = await AnswerStream.OpenAsync(client, Question);
        Assert.Equal(s_pieces[0], (await stream.ReadAsync()).Data);
        Assert.Equal(0, host.Provider.Aborted);

        await stream.DisposeAsync();

        await host.Provider.WhenAborted(1).WaitAsync(s_bound);
        Assert.Equal(1, host.Provider.Requests);
    }

    [Fact]
    public async Task A_customer_who_disconnects_leaves_the_answer_streaming_to_another_who_asked_the_same()
    {
        var release = new TaskCompletionSource();
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(
            options => options with { HoldStreamsAfterFirstChunkUntil = release.Task }, timeProvider: new FakeTimeProvider());
        using HttpClient ana = host.CreateClient(tenant: "acme", user: "ana");
        using HttpClient ben = host.CreateClient(tenant: "acme", user: "ben");
        AnswerStream quitter = await AnswerStream.OpenAsync(ana, Question);
        await using AnswerStream stayer = await AnswerStream.OpenAsync(ben, Question);
        await quitter.ReadAsync();
        await stayer.ReadAsync();

        await quitter.DisposeAsync();
        release.SetResult();

        Assert.Equal([.. s_pieces[1..], ""], (await stayer.ReadToEndAsync()).Select(item => item.Data));
        Assert.Equal(1, host.Provider.Requests);
        Assert.Equal(0, host.Provider.Aborted);
    }

    [Fact]
    public async Task A_model_that_fails_before_the_first_piece_is_retried_once_then_the_stream_ends_with_an_error_event()
    {
        var clock = new TimerWatchingClock();
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(options => options with { UnavailableRate = 1 }, timeProvider: clock);
        using HttpClient client = host.CreateClient(tenant: "acme");
        Task<List<SseItem<string>>> reading = ReadAllAsync(client, Question);

        // The retry's delay passes once it is scheduled; the attempts' 5 s first-piece deadlines never do.
        await clock.AdvanceTimersUntilAsync(reading, due => due != s_firstPieceDeadline, s_bound);
        List<SseItem<string>> events = await reading.WaitAsync(s_bound);

        SseItem<string> error = Assert.Single(events);
        Assert.Equal(AnswerEvents.Error, error.EventType);
        Assert.Equal(2, host.Provider.Requests);
    }

    [Fact]
    public async Task A_configured_IdleTimeoutMs_cuts_an_answer_whose_next_piece_is_late_with_an_error_event()
    {
        var clock = new TimerWatchingClock();
        var neverReleased = new TaskCompletionSource();
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(
            options => options with { HoldStreamsAfterFirstChunkUntil = neverReleased.Task },
            timeProvider: clock,
            settings: new Dictionary<string, string?> { ["LlmGuard:Scenes:answer_stream:IdleTimeoutMs"] = "100" });
        using HttpClient client = host.CreateClient(tenant: "acme");
        Task<List<SseItem<string>>> reading = ReadAllAsync(client, Question);

        // Only the configured 100 ms passes: the attribute's 5 s would still be waiting.
        await clock.AdvanceTimersUntilAsync(reading, due => due == TimeSpan.FromMilliseconds(100), s_bound);
        List<SseItem<string>> events = await reading.WaitAsync(s_bound);

        Assert.Equal([s_pieces[0], "The answer was cut off; please ask again."], events.Select(item => item.Data));
        Assert.Equal(["message", AnswerEvents.Error], events.Select(item => item.EventType));
        Assert.Equal(1, host.Provider.Requests);
    }

    [Fact]
    public async Task An_empty_question_is_a_validation_problem()
    {
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(timeProvider: new FakeTimeProvider());
        using HttpClient client = host.CreateClient(tenant: "acme");

        using HttpResponseMessage response = await client.GetAsync("/help/answer/stream?question=%20").WaitAsync(s_bound);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, host.Provider.Requests);
    }

    private static async Task<List<SseItem<string>>> ReadAllAsync(HttpClient client, string question)
    {
        await using AnswerStream stream = await AnswerStream.OpenAsync(client, question);
        return await stream.ReadToEndAsync();
    }

    /// <summary>One customer's open event stream, read event by event, each read bounded in real time.</summary>
    private sealed class AnswerStream : IAsyncDisposable
    {
        private readonly CancellationTokenSource _disconnect = new();
        private HttpResponseMessage? _response;
        private IAsyncEnumerator<SseItem<string>>? _events;
        private bool _disposed;

        public string? MediaType => _response?.Content.Headers.ContentType?.MediaType;

        public static async Task<AnswerStream> OpenAsync(HttpClient client, string question)
        {
            var stream = new AnswerStream();
            stream._response = await client.GetAsync(
                "/help/answer/stream?question=" + Uri.EscapeDataString(question), HttpCompletionOption.ResponseHeadersRead, stream._disconnect.Token).WaitAsync(s_bound);
            stream._response.EnsureSuccessStatusCode();
            Stream body = await stream._response.Content.ReadAsStreamAsync(stream._disconnect.Token);
            stream._events = SseParser.Create(body).EnumerateAsync(stream._disconnect.Token).GetAsyncEnumerator(stream._disconnect.Token);
            return stream;
        }

        public async Task<SseItem<string>> ReadAsync()
        {
            Assert.True(await _events!.MoveNextAsync().AsTask().WaitAsync(s_bound), "The stream ended.");
            return _events.Current;
        }

        public async Task<List<SseItem<string>>> ReadToEndAsync()
        {
            var events = new List<SseItem<string>>();

            // Bounded: an answer has a handful of pieces.
            for (int i = 0; i < 100 && await _events!.MoveNextAsync().AsTask().WaitAsync(s_bound); i++)
            {
                events.Add(_events.Current);
            }

            return events;
        }

        /// <summary>Disconnects, as a browser tab that closes.</summary>
        public async ValueTask DisposeAsync()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            await _disconnect.CancelAsync();
            if (_events is not null)
            {
                await _events.DisposeAsync();
            }

            _response?.Dispose();
            _disconnect.Dispose();
        }
    }
}
