using System;
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard;
using LlmGuard.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenAI;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using TicketDesk.Conversations;
using TicketDesk.Help;
using TicketDesk.Hosting;
using TicketDesk.Model;
using TicketDesk.Tickets;
using TicketDesk.Usage;

// A support desk's API: ticket autofill, chat replies and help answers written by a model through LlmGuard, the usage
// table the team keeps, and LlmGuard's metrics and traces in the console.
WebApplicationBuilder builder = WebApplication.CreateBuilder(args);

// One runtime for the service: guard state (calls in flight, merge windows) lives in it; its scenes, prices and
// budgets come from the "LlmGuard" section of appsettings.json (reloaded when the file changes); its logs and metrics
// go to the host's logging and OpenTelemetry; every execution's usage goes to the SQLite usage table.
// The help desk's primary and smaller models are the model profiles "normal" and "fast" (LlmGuard:Profiles), each the
// keyed IChatClient of its name.
builder.Services.AddLlmGuard()
    .AddUsageSink<SqliteUsageSink>()
    .AddModelProfile("normal")
    .AddModelProfile("fast");

// Read when the container builds them, so every configuration source (and a test host's settings) is in.
builder.Services.Configure<ModelOptions>(builder.Configuration.GetSection(ModelOptions.Section));
builder.Services.AddSingleton<SimulatedModelHost>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<SimulatedModelHost>());
builder.Services.AddSingleton(sp =>
{
    ModelOptions model = sp.GetRequiredService<IOptions<ModelOptions>>().Value;
    return sp.GetRequiredService<OpenAIClient>().GetChatClient(model.Name).AsIChatClient();
});

// The models the profiles pick from, one keyed IChatClient each on the same endpoint. Keyed services are registered
// before the container exists, so their names are read now; start-up validation stops the service when a profile
// names a client that is not listed here.
foreach (string modelName in builder.Configuration.GetSection("Model:Models").Get<string[]>() ?? [])
{
    builder.Services.AddKeyedSingleton(modelName, static (sp, key) =>
        sp.GetRequiredService<OpenAIClient>().GetChatClient((string)key!).AsIChatClient());
}

builder.Services.AddSingleton(sp =>
{
    ModelOptions model = sp.GetRequiredService<IOptions<ModelOptions>>().Value;
    Uri endpoint = model.Endpoint ?? sp.GetRequiredService<SimulatedModelHost>().Endpoint;
    string? apiKey = model.Endpoint is null
        ? "simulated-provider-accepts-any-key"
        : model.ApiKey ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY");
    if (string.IsNullOrEmpty(apiKey))
    {
        throw new InvalidOperationException($"Set Model:ApiKey or OPENAI_API_KEY to the API key of {model.Endpoint}.");
    }

    var options = new OpenAIClientOptions
    {
        Endpoint = endpoint,

        // The SDK would otherwise retry 429s and 5xx inside one guarded attempt, hiding the failures from
        // LlmGuard and outliving its attempt timeout. LlmGuard is the one that retries.
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    };
    return new OpenAIClient(new ApiKeyCredential(apiKey), options);
});
builder.Services.AddSingleton<TicketAssistant>();
builder.Services.AddSingleton<ChatAssistant>();
builder.Services.AddSingleton<HelpDesk>();
builder.Services.AddSingleton<LiveHelp>();

builder.Services.AddSingleton(sp =>
{
    string? path = sp.GetRequiredService<IConfiguration>()["Usage:DatabasePath"];
    return new UsageStore(string.IsNullOrEmpty(path) ? Path.Combine(Path.GetTempPath(), "ticketdesk-usage.db") : path);
});

// LlmGuard's meter and activity source, exported to the console every 10 s (metrics) and as they end (traces).
bool consoleExporter = builder.Configuration.GetValue("Telemetry:Console", defaultValue: true);
builder.Services.AddOpenTelemetry()
    .ConfigureResource(resource => resource.AddService("TicketDesk"))
    .WithMetrics(metrics =>
    {
        metrics.AddMeter("LlmGuard");
        if (consoleExporter)
        {
            metrics.AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 10_000);
        }
    })
    .WithTracing(tracing =>
    {
        // LlmGuard's spans start under the request's span, and the default sampler follows the parent: the request
        // spans must be recorded for LlmGuard's to be.
        tracing.AddAspNetCoreInstrumentation();
        tracing.AddSource("LlmGuard");
        if (consoleExporter)
        {
            tracing.AddConsoleExporter();
        }
    });

WebApplication app = builder.Build();
app.UseLlmCallContext();

app.MapPost("/tickets/autofill", async (AutofillRequest request, TicketAssistant tickets, CancellationToken cancellationToken) =>
{
    if (string.IsNullOrWhiteSpace(request.Text))
    {
        return Results.ValidationProblem(new Dictionary<string, string[]> { ["text"] = ["The ticket text is empty."] });
    }

    using LlmCallContextScope scope = LlmCallContext.Begin(module: "tickets");
    TicketDraft draft = await tickets.AutofillAsync(request.Text, cancellationToken);
    return Results.Ok(draft);
});

app.MapPost("/conversations/{id}/reply", async (string id, ChatMessageRequest request, ChatAssistant chat, CancellationToken cancellationToken) =>
{
    if (string.IsNullOrWhiteSpace(request.Text))
    {
        return Results.ValidationProblem(new Dictionary<string, string[]> { ["text"] = ["The message is empty."] });
    }

    // Every message of this conversation joins the conversation's merge window through the {$conversation} key.
    using LlmCallContextScope scope = LlmCallContext.Begin(conversation: id, module: "chat");
    ChatReply reply = await chat.ReplyAsync(request.Text, cancellationToken);
    return Results.Ok(reply);
});

app.MapPost("/help/answer", async (HelpQuestion request, HelpDesk help, HttpResponse response, CancellationToken cancellationToken) =>
{
    if (string.IsNullOrWhiteSpace(request.Question))
    {
        return Results.ValidationProblem(new Dictionary<string, string[]> { ["question"] = ["The question is empty."] });
    }

    using LlmCallContextScope scope = LlmCallContext.Begin(module: "help");
    HelpAnswer answer = await help.AnswerAsync(request.Question, cancellationToken);
    if (answer.Source == HelpAnswer.Shed)
    {
        // A shed question is 503 with Retry-After, not a 200 busy reply: nothing was tried for it, and this status is
        // what makes clients' retry policies, gateways and load balancers back off, and what dashboards count as
        // overload. The static reply stays a 200: the models were tried and are down, and the customer has an answer
        // that promises a human, which a retry in two seconds would not improve. Two seconds: the smaller model's
        // queue frees up within about one of its answers, and a burst's retries spread past that.
        response.Headers.RetryAfter = "2";
        return Results.Json(answer, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    return Results.Ok(answer);
});

app.MapGet("/help/answer/stream", async (string? question, LiveHelp help, ILoggerFactory loggers, HttpContext context) =>
{
    if (string.IsNullOrWhiteSpace(question))
    {
        await Results.ValidationProblem(new Dictionary<string, string[]> { ["question"] = ["The question is empty."] }).ExecuteAsync(context);
        return;
    }

    // The scope lasts while the answer streams, so the stream starts (on its first read) inside it. RequestAborted ends
    // this customer's stream when they go away; the model request stops once no customer reads it.
    using LlmCallContextScope scope = LlmCallContext.Begin(module: "help");
    IAsyncEnumerable<string> answer = help.StreamAnswerAsync(question, context.RequestAborted);
    await TypedResults.ServerSentEvents(AnswerEvents.From(answer, loggers.CreateLogger("TicketDesk.Help.AnswerEvents"), context.RequestAborted)).ExecuteAsync(context);
});

app.MapGet("/usage/daily", async (UsageStore usage, CancellationToken cancellationToken) =>
    Results.Ok(await usage.GetDailyUsageAsync(cancellationToken)));

await app.RunAsync();

/// <summary>The entry point; public so the end-to-end tests can host the service.</summary>
public partial class Program;
