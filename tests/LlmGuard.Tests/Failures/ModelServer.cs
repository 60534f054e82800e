using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LlmGuard.Tests.Failures;

/// <summary>What the loopback model server does with one request.</summary>
public abstract record ServerReply
{
    /// <summary>Answers with a status, a JSON body and headers.</summary>
    public static ServerReply Status(int status, string body, params (string Name, string Value)[] headers) => new StatusReply(status, body, headers);

    /// <summary>Accepts the request and never answers, until the client gives up.</summary>
    public static ServerReply Hang { get; } = new HangReply();

    /// <summary>Answers with <paramref name="reply"/> once <paramref name="release"/> completes.</summary>
    public static ServerReply After(Task release, ServerReply reply) => new HeldReply(release, reply);

    /// <summary>Drops the connection without an answer.</summary>
    public static ServerReply Reset { get; } = new ResetReply();

    /// <summary>
    /// Answers 200 with server-sent events: sends each of <paramref name="first"/> as it is written, waits for
    /// <paramref name="release"/>, then sends <paramref name="rest"/>. A client that goes away while it waits is counted
    /// in <see cref="ModelServer.Aborted"/>.
    /// </summary>
    public static ServerReply Events(string[] first, Task release, params string[] rest) => new EventsReply(first, release, rest);

    internal sealed record StatusReply(int Code, string Body, (string Name, string Value)[] Headers) : ServerReply;

    internal sealed record HangReply : ServerReply;

    internal sealed record ResetReply : ServerReply;

    internal sealed record HeldReply(Task Release, ServerReply Reply) : ServerReply;

    internal sealed record EventsReply(string[] First, Task Release, string[] Rest) : ServerReply;
}

/// <summary>
/// A Kestrel server on 127.0.0.1 and a free port that answers every request from a script, so the real model SDKs
/// can be pointed at it. It counts the requests it saw and keeps their bodies.
/// </summary>
public sealed class ModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ServerReply> _script = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _arrivals = new(0);
    private readonly SemaphoreSlim _aborts = new(0);
    private int _aborted;
    private ServerReply _last;
    private readonly ConcurrentQueue<string> _bodies = new();
    private int _requests;

    private ModelServer(ServerReply fallbackReply)
    {
        _last = fallbackReply;
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    /// <summary>Gets the base address, for example <c>http://127.0.0.1:41234</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>Gets the number of requests that arrived.</summary>
    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Gets the number of streamed answers (<see cref="ServerReply.Events"/>) whose client went away before their end.</summary>
    public int Aborted => Volatile.Read(ref _aborted);

    /// <summary>Gets the bodies of the requests that arrived, in order of arrival.</summary>
    public string[] Bodies => _bodies.ToArray();

    /// <summary>Starts a server that answers with <paramref name="replies"/> in order, then repeats the last one.</summary>
    public static async Task<ModelServer> StartAsync(params ServerReply[] replies)
    {
        var server = new ModelServer(replies[^1]);
        foreach (ServerReply reply in replies)
        {
            server._script.Enqueue(reply);
        }

        await server._app.StartAsync().WaitAsync(TimeSpan.FromSeconds(30));
        string address = server._app.Services.GetService(typeof(IServer)) is IServer kestrel
            ? kestrel.Features.Get<IServerAddressesFeature>()!.Addresses.Single()
            : throw new InvalidOperationException("Kestrel did not start.");
        server.BaseAddress = new Uri(address);
        return server;
    }

    /// <summary>Waits, at most 10 seconds of real time, until <paramref name="count"/> requests in all have arrived.</summary>
    public async Task WaitForRequestsAsync(int count)
    {
        while (Requests < count)
        {
            if (!await _arrivals.WaitAsync(TimeSpan.FromSeconds(10)))
            {
                throw new TimeoutException($"The server saw {Requests} requests, not {count}.");
            }
        }
    }

    /// <summary>Waits, at most 10 seconds of real time, until the clients of <paramref name="count"/> streamed answers in all went away.</summary>
    public async Task WaitForAbortsAsync(int count)
    {
        while (Aborted < count)
        {
            if (!await _aborts.WaitAsync(TimeSpan.FromSeconds(10)))
            {
                throw new TimeoutException($"The clients of {Aborted} streamed answers went away, not {count}.");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync().WaitAsync(TimeSpan.FromSeconds(30));
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    private async Task HandleAsync(HttpContext context)
    {
        // The body is read so the client's send completes, as it would against the real service.
        using (var body = new System.IO.StreamReader(context.Request.Body))
        {
            _bodies.Enqueue(await body.ReadToEndAsync(context.RequestAborted));
        }

        ServerReply reply = _script.TryDequeue(out ServerReply? next) ? next : _last;
        Interlocked.Increment(ref _requests);
        _arrivals.Release();
        await AnswerAsync(context, reply);
    }

    private async Task AnswerAsync(HttpContext context, ServerReply reply)
    {
        switch (reply)
        {
            case ServerReply.HeldReply held:
                await held.Release.WaitAsync(context.RequestAborted);
                await AnswerAsync(context, held.Reply);
                break;
            case ServerReply.StatusReply status:
                context.Response.StatusCode = status.Code;
                context.Response.ContentType = "application/json";
                foreach ((string name, string value) in status.Headers)
                {
                    context.Response.Headers[name] = value;
                }

                await context.Response.WriteAsync(status.Body, context.RequestAborted);
                break;
            case ServerReply.HangReply:
                using (var both = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token))
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, both.Token).ContinueWith(static _ => { }, TaskScheduler.Default);
                }

                break;
            case ServerReply.ResetReply:
                context.Abort();
                break;
            case ServerReply.EventsReply events:
                try
                {
                    context.Response.ContentType = "text/event-stream";
                    await WriteEventsAsync(context, events.First);
                    await events.Release.WaitAsync(context.RequestAborted);
                    await WriteEventsAsync(context, events.Rest);
                }
                catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _aborted);
                    _aborts.Release();
                }

                break;
        }
    }

    private static async Task WriteEventsAsync(HttpContext context, string[] events)
    {
        foreach (string data in events)
        {
            // Flushed one by one, so the client reads each event while the server still holds the rest.
            await context.Response.WriteAsync($"data: {data}\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }
    }
}
