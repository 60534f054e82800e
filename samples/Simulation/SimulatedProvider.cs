using System;
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

namespace QuickStart;

/// <summary>
/// An OpenAI-compatible chat-completions server on a free loopback port, standing in for a busy provider:
/// answers take 150-450 ms; 10% of requests get 429 with Retry-After, 10% get 503, and 5% hang until the
/// client gives up. Outcomes and latencies come from one seeded generator.
/// </summary>
public sealed class SimulatedProvider : IAsyncDisposable
{
    public const double RateLimitedRate = 0.10;
    public const double UnavailableRate = 0.10;
    public const double HangRate = 0.05;

    // A hung request normally ends when the client's attempt timeout disconnects it; this bound ends it anyway,
    // so a client that never gives up cannot keep the demo from shutting down.
    private static readonly TimeSpan s_hangLimit = TimeSpan.FromSeconds(10);

    private readonly WebApplication _app;
    private readonly Random _random;
    private int _requests;

    private SimulatedProvider(WebApplication app, int seed)
    {
        _app = app;
        _random = new Random(seed);
        app.MapPost("/v1/chat/completions", CompleteAsync);
    }

    /// <summary>The base address an OpenAI client is given, ending in <c>/v1</c>.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The chat-completion requests received so far, whatever their outcome.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public static async Task<SimulatedProvider> StartAsync(int seed)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var provider = new SimulatedProvider(builder.Build(), seed);
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
        Interlocked.Increment(ref _requests);
        using JsonDocument request = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
        string model = request.RootElement.GetProperty("model").GetString() ?? "";
        int promptCharacters = request.RootElement.GetProperty("messages").EnumerateArray()
            .Sum(message => message.TryGetProperty("content", out JsonElement content) && content.ValueKind == JsonValueKind.String ? content.GetString()!.Length : 0);

        double roll;
        int latencyMs;
        lock (_random)
        {
            roll = _random.NextDouble();
            latencyMs = _random.Next(150, 450);
        }

        if (roll < HangRate)
        {
            await HangAsync(context);
            return;
        }

        await Task.Delay(latencyMs, context.RequestAborted);
        if (roll < HangRate + RateLimitedRate)
        {
            // Both forms OpenAI-compatible clients read: milliseconds first, then whole seconds.
            context.Response.Headers["retry-after-ms"] = "500";
            context.Response.Headers.RetryAfter = "1";
            await WriteErrorAsync(context, StatusCodes.Status429TooManyRequests, "rate_limit_exceeded", "Rate limit reached for requests.");
        }
        else if (roll < HangRate + RateLimitedRate + UnavailableRate)
        {
            await WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "server_error", "The server is overloaded. Please try again later.");
        }
        else
        {
            await WriteCompletionAsync(context, model, promptCharacters);
        }
    }

    private static async Task HangAsync(HttpContext context)
    {
        try
        {
            await Task.Delay(s_hangLimit, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        await WriteErrorAsync(context, StatusCodes.Status504GatewayTimeout, "timeout", "The model did not answer in time.");
    }

    private static Task WriteCompletionAsync(HttpContext context, string model, int promptCharacters)
    {
        string answer = "Sorry about that. I have opened a case for your order; a replacement or a refund is on its way.";

        // The usual estimate of four characters a token is close enough for a usage block.
        int promptTokens = Math.Max(1, promptCharacters / 4);
        int completionTokens = Math.Max(1, answer.Length / 4);
        var body = new JsonObject
        {
            ["id"] = $"chatcmpl-{Guid.NewGuid():N}",
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = answer, ["refusal"] = null },
                ["logprobs"] = null,
                ["finish_reason"] = "stop",
            }),
            ["usage"] = new JsonObject
            {
                ["prompt_tokens"] = promptTokens,
                ["completion_tokens"] = completionTokens,
                ["total_tokens"] = promptTokens + completionTokens,
            },
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
