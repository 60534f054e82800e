using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Simulation;

/// <summary>
/// An OpenAI-compatible chat-completions server on a free loopback port, standing in for a busy provider
/// (<see cref="SimulatedProviderOptions"/> sets how busy). Outcomes and latencies come from one seeded generator.
/// A request with <c>"stream": true</c> is answered as OpenAI streams: server-sent events of
/// <c>chat.completion.chunk</c> objects, a few words each, a usage chunk when <c>stream_options.include_usage</c> asks
/// for one, then <c>data: [DONE]</c>. It fails, hangs and waits like any other request, before its first chunk.
/// </summary>
public sealed class SimulatedProvider : IAsyncDisposable
{
    // A few words per chunk, as models stream a few tokens per event.
    private const int WordsPerChunk = 3;

    // A hung request normally ends when the client's attempt timeout disconnects it; this bound ends it anyway,
    // so a client that never gives up cannot keep the demo from shutting down.
    private static readonly TimeSpan s_hangLimit = TimeSpan.FromSeconds(10);

    private readonly WebApplication _app;
    private readonly Random _random;
    private readonly List<SimulatedRequest> _received = [];
    private readonly List<(int Count, TaskCompletionSource Reached)> _receivedWaiters = [];
    private readonly List<(int Count, TaskCompletionSource Reached)> _abortedWaiters = [];
    private int _aborted;

    private SimulatedProvider(WebApplication app, SimulatedProviderOptions options)
    {
        _app = app;
        Options = options;
        _random = new Random(options.Seed);
        app.MapPost("/v1/chat/completions", CompleteAsync);
    }

    /// <summary>How this provider behaves.</summary>
    public SimulatedProviderOptions Options { get; }

    /// <summary>The base address an OpenAI client is given, ending in <c>/v1</c>.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The chat-completion requests received so far, whatever their outcome.</summary>
    public int Requests
    {
        get
        {
            lock (_received)
            {
                return _received.Count;
            }
        }
    }

    /// <summary>The chat-completion requests received so far, in arrival order.</summary>
    public IReadOnlyList<SimulatedRequest> Received
    {
        get
        {
            lock (_received)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>
    /// Completes once the provider has received <paramref name="count"/> chat-completion requests, before it answers the
    /// last of them, so a test can act while they are in flight (held, or slow).
    /// </summary>
    public Task WhenReceived(int count)
    {
        lock (_received)
        {
            if (_received.Count >= count)
            {
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _receivedWaiters.Add((count, reached));
            return reached.Task;
        }
    }

    /// <summary>
    /// The requests whose client went away (a timeout, a cancellation, a closed stream) before the provider had written
    /// the whole answer.
    /// </summary>
    public int Aborted
    {
        get
        {
            lock (_received)
            {
                return _aborted;
            }
        }
    }

    /// <summary>Completes once the clients of <paramref name="count"/> requests in all have gone away before their answer ended.</summary>
    public Task WhenAborted(int count)
    {
        lock (_received)
        {
            if (_aborted >= count)
            {
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _abortedWaiters.Add((count, reached));
            return reached.Task;
        }
    }

    /// <summary>Starts a provider with the default behaviour of a busy provider and the given seed.</summary>
    public static Task<SimulatedProvider> StartAsync(int seed) => StartAsync(new SimulatedProviderOptions { Seed = seed });

    /// <summary>Starts a provider that behaves as <paramref name="options"/> say.</summary>
    public static async Task<SimulatedProvider> StartAsync(SimulatedProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var provider = new SimulatedProvider(builder.Build(), options);
        await provider._app.StartAsync();
        // Kestrel replaces port 0 with the port it bound.
        string address = provider._app.Urls.Single();
        provider.Endpoint = new Uri($"{address}/v1");
        return provider;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task CompleteAsync(HttpContext context)
    {
        SimulatedRequest request = await ReadAsync(context);
        lock (_received)
        {
            _received.Add(request);
            for (int i = _receivedWaiters.Count - 1; i >= 0; i--)
            {
                if (_received.Count >= _receivedWaiters[i].Count)
                {
                    _receivedWaiters[i].Reached.SetResult();
                    _receivedWaiters.RemoveAt(i);
                }
            }
        }

        try
        {
            await AnswerAsync(context, request);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            OnAborted();
        }
    }

    private void OnAborted()
    {
        lock (_received)
        {
            _aborted++;
            for (int i = _abortedWaiters.Count - 1; i >= 0; i--)
            {
                if (_aborted >= _abortedWaiters[i].Count)
                {
                    _abortedWaiters[i].Reached.SetResult();
                    _abortedWaiters.RemoveAt(i);
                }
            }
        }
    }

    private async Task AnswerAsync(HttpContext context, SimulatedRequest request)
    {
        SimulatedProviderOptions behaviour = Options.Models?.GetValueOrDefault(request.Model) ?? Options;
        double roll;
        int latencyMs;
        lock (_random)
        {
            roll = _random.NextDouble();
            latencyMs = _random.Next((int)behaviour.MinLatency.TotalMilliseconds, (int)behaviour.MaxLatency.TotalMilliseconds + 1);
        }

        if (behaviour.HoldAnswersUntil is { } hold)
        {
            await hold.WaitAsync(context.RequestAborted);
        }

        double hangRate = behaviour.HangRate;
        double rateLimitedRate = behaviour.RateLimitedRate;
        double unavailableRate = behaviour.UnavailableRate;
        if (roll < hangRate)
        {
            await HangAsync(context);
            return;
        }

        await Task.Delay(latencyMs, context.RequestAborted);
        if (roll < hangRate + rateLimitedRate)
        {
            // Both forms OpenAI-compatible clients read: milliseconds first, then whole seconds.
            context.Response.Headers["retry-after-ms"] = "500";
            context.Response.Headers.RetryAfter = "1";
            await WriteErrorAsync(context, StatusCodes.Status429TooManyRequests, "rate_limit_exceeded", "Rate limit reached for requests.");
        }
        else if (roll < hangRate + rateLimitedRate + unavailableRate)
        {
            await WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "server_error", "The server is overloaded. Please try again later.");
        }
        else if (request.Stream)
        {
            await WriteChunksAsync(context, request, behaviour);
        }
        else
        {
            await WriteCompletionAsync(context, request);
        }
    }

    private static async Task HangAsync(HttpContext context)
    {
        // The caller counts a hang the client ended as an aborted request.
        await Task.Delay(s_hangLimit, context.RequestAborted);
        await WriteErrorAsync(context, StatusCodes.Status504GatewayTimeout, "timeout", "The model did not answer in time.");
    }

    private static async Task<SimulatedRequest> ReadAsync(HttpContext context)
    {
        using JsonDocument body = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        JsonElement root = body.RootElement;
        string model = root.GetProperty("model").GetString() ?? "";
        var instructions = new List<string>();
        var prompt = new List<string>();
        foreach (JsonElement message in root.GetProperty("messages").EnumerateArray())
        {
            if (!message.TryGetProperty("content", out JsonElement content) || content.ValueKind != JsonValueKind.String)
            {
                continue;
            }

            string role = message.TryGetProperty("role", out JsonElement r) ? r.GetString() ?? "" : "";
            (role is "system" or "developer" ? instructions : prompt).Add(content.GetString()!);
        }

        bool wantsJson = root.TryGetProperty("response_format", out JsonElement format) && format.ValueKind == JsonValueKind.Object;
        bool stream = root.TryGetProperty("stream", out JsonElement streamed) && streamed.ValueKind == JsonValueKind.True;
        bool includeUsage = stream
            && root.TryGetProperty("stream_options", out JsonElement streamOptions)
            && streamOptions.ValueKind == JsonValueKind.Object
            && streamOptions.TryGetProperty("include_usage", out JsonElement include)
            && include.ValueKind == JsonValueKind.True;
        return new SimulatedRequest(model, string.Join('\n', instructions), string.Join('\n', prompt), wantsJson)
        {
            Stream = stream,
            IncludeUsage = includeUsage,
        };
    }

    private string AnswerTo(SimulatedRequest request) => Options.Answer?.Invoke(request)
        ?? "Sorry about that. I have opened a case for your order; a replacement or a refund is on its way.";

    // The usual estimate of four characters a token is close enough for a usage block.
    private static JsonObject Usage(SimulatedRequest request, string answer)
    {
        int promptTokens = Math.Max(1, (request.Instructions.Length + request.Prompt.Length) / 4);
        int completionTokens = Math.Max(1, answer.Length / 4);
        return new JsonObject
        {
            ["prompt_tokens"] = promptTokens,
            ["completion_tokens"] = completionTokens,
            ["total_tokens"] = promptTokens + completionTokens,
        };
    }

    private async Task WriteChunksAsync(HttpContext context, SimulatedRequest request, SimulatedProviderOptions behaviour)
    {
        string answer = AnswerTo(request);
        string id = $"chatcmpl-{Guid.NewGuid():N}";
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        CancellationToken aborted = context.RequestAborted;
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";

        // OpenAI's first chunk carries the role; with usage asked for, every chunk has "usage": null until the last.
        List<string> pieces = Chunks(answer);
        await WriteEventAsync(context, Chunk(id, created, request, new JsonObject { ["role"] = "assistant", ["content"] = "" }, finishReason: null), aborted);
        for (int i = 0; i < pieces.Count; i++)
        {
            if (i > 0 && behaviour.ChunkInterval > TimeSpan.Zero)
            {
                await Task.Delay(behaviour.ChunkInterval, aborted);
            }

            await WriteEventAsync(context, Chunk(id, created, request, new JsonObject { ["content"] = pieces[i] }, finishReason: null), aborted);
            if (i == 0 && behaviour.HoldStreamsAfterFirstChunkUntil is { } hold)
            {
                await hold.WaitAsync(aborted);
            }
        }

        await WriteEventAsync(context, Chunk(id, created, request, new JsonObject(), finishReason: "stop"), aborted);
        if (request.IncludeUsage)
        {
            JsonObject usage = Chunk(id, created, request, delta: null, finishReason: null);
            usage["usage"] = Usage(request, answer);
            await WriteEventAsync(context, usage, aborted);
        }

        await context.Response.WriteAsync("data: [DONE]\n\n", aborted);
        await context.Response.Body.FlushAsync(aborted);
    }

    // Splits after every few words, keeping the spaces, so the chunks join to the answer exactly.
    private static List<string> Chunks(string answer)
    {
        var chunks = new List<string>();
        int start = 0;
        int words = 0;
        for (int i = 0; i < answer.Length; i++)
        {
            if (answer[i] == ' ' && (i + 1 == answer.Length || answer[i + 1] != ' ') && ++words == WordsPerChunk)
            {
                chunks.Add(answer[start..(i + 1)]);
                start = i + 1;
                words = 0;
            }
        }

        if (start < answer.Length || chunks.Count == 0)
        {
            chunks.Add(answer[start..]);
        }

        return chunks;
    }

    // A delta of null writes the usage chunk, whose choices are empty.
    private static JsonObject Chunk(string id, long created, SimulatedRequest request, JsonObject? delta, string? finishReason)
    {
        var chunk = new JsonObject
        {
            ["id"] = id,
            ["object"] = "chat.completion.chunk",
            ["created"] = created,
            ["model"] = request.Model,
            ["choices"] = delta is null
                ? new JsonArray()
                : new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["delta"] = delta,
                    ["logprobs"] = null,
                    ["finish_reason"] = finishReason,
                }),
        };
        if (request.IncludeUsage)
        {
            chunk["usage"] = null;
        }

        return chunk;
    }

    private static async Task WriteEventAsync(HttpContext context, JsonObject chunk, CancellationToken cancellationToken)
    {
        // Each event is flushed on its own, so the client reads it while the rest of the answer is still being written.
        await context.Response.WriteAsync($"data: {chunk.ToJsonString()}\n\n", cancellationToken);
        await context.Response.Body.FlushAsync(cancellationToken);
    }

    private Task WriteCompletionAsync(HttpContext context, SimulatedRequest request)
    {
        string answer = AnswerTo(request);
        var body = new JsonObject
        {
            ["id"] = $"chatcmpl-{Guid.NewGuid():N}",
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = request.Model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = answer, ["refusal"] = null },
                ["logprobs"] = null,
                ["finish_reason"] = "stop",
            }),
            ["usage"] = Usage(request, answer),
        };
        return WriteJsonAsync(context, StatusCodes.Status200OK, body);
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string code, string message) =>
        WriteJsonAsync(context, status, new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message, ["type"] = code, ["param"] = null, ["code"] = code },
        });

    private static Task WriteJsonAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }
}
