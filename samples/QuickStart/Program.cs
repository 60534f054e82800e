using System;
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;
using OpenAI;
using QuickStart;
using Simulation;

// A support desk under real traffic: many sessions at once. In every turn a user types one to three messages in
// quick succession, and each message arrives as a small burst of duplicate triggers (double clicks, page retries,
// webhook redelivery). The same seeded traffic runs twice: once through a singleflight keyed by message, once
// through a merge window keyed by session that answers each burst of messages with one model call.
const string ApiKeyVariable = "OPENAI_API_KEY";

if (!DemoArguments.TryParse(args, out DemoArguments? arguments, out string? error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(DemoArguments.Usage(ApiKeyVariable));
    return 2;
}

if (arguments.Help)
{
    Console.WriteLine(DemoArguments.Usage(ApiKeyVariable));
    return 0;
}

SimulatedProvider? simulated = null;
Uri endpoint;
string model;
string apiKey;
if (arguments.Endpoint is null)
{
    simulated = await SimulatedProvider.StartAsync(seed: 7);
    endpoint = simulated.Endpoint;
    model = "simulated-support-model";
    apiKey = "simulated-provider-accepts-any-key";
    Console.WriteLine($"Simulated OpenAI-compatible provider at {endpoint} (150-450 ms; {simulated.Options.RateLimitedRate * 100:0}% 429 with Retry-After, {simulated.Options.UnavailableRate * 100:0}% 503, {simulated.Options.HangRate * 100:0}% hang)");
}
else
{
    endpoint = arguments.Endpoint;
    model = arguments.Model!;
    string? key = Environment.GetEnvironmentVariable(ApiKeyVariable);
    if (string.IsNullOrEmpty(key))
    {
        Console.Error.WriteLine($"Set {ApiKeyVariable} to the server's API key (any value for a server without one, such as Ollama).");
        return 2;
    }

    apiKey = key;
    Console.WriteLine($"OpenAI-compatible server at {endpoint}, model {model}");
}

await using (simulated)
{
    var options = new OpenAIClientOptions
    {
        Endpoint = endpoint,

        // The SDK would otherwise retry 429s and 5xx by itself (three times, waiting out Retry-After) inside one
        // guarded attempt, hiding the failures from LlmGuard and outliving its attempt timeout. LlmGuard is the
        // one that retries.
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    };
    IChatClient chat = new OpenAIClient(new ApiKeyCredential(apiKey), options).GetChatClient(model).AsIChatClient();

    var traffic = SupportTraffic.Generate(seed: 2026, sessions: 40, turnsPerSession: 3);
    Result[] results =
    [
        await Run("singleflight per message", merging: false, static (assistant, message) => assistant.ReplyAsync(message)),
        await Run("+ merge window per session", merging: true, static (assistant, message) => assistant.ReplyToBurstAsync(message.SessionId, message.Text, [message.MessageId])),
    ];

    Console.WriteLine();
    Console.WriteLine($"  {"configuration",-28}{"requested",10}{"model calls",13}{"executions",12}{"shared",8}{"merged",8}{"retries",9}{"fallbacks",11}{"http requests",15}{"elapsed",9}");
    foreach (Result r in results)
    {
        string httpRequests = r.HttpRequests?.ToString() ?? "n/a";
        Console.WriteLine($"  {r.Name,-28}{r.Requested,10}{r.ModelCalls,13}{r.Executions,12}{r.Shared,8}{r.Merged,8}{r.Retries,9}{r.Fallbacks,11}{httpRequests,15}{r.Elapsed.TotalSeconds,8:F1}s");
    }

    Console.WriteLine();
    Console.WriteLine("  requested:     triggers the traffic fired, duplicates included");
    Console.WriteLine("  model calls:   GetResponseAsync calls the guarded cores made, one per attempt");
    Console.WriteLine("  executions:    guarded executions (attempts, then the fallback if all failed), each answering every trigger that joined it");
    Console.WriteLine("  shared:        triggers answered by another trigger's execution through the singleflight");
    Console.WriteLine("  merged:        triggers folded into a merge window's one execution");
    Console.WriteLine("  retries:       model calls after an execution's first attempt (timeouts, 429, 5xx)");
    Console.WriteLine("  fallbacks:     executions answered by the hand-over fallback after every attempt failed");
    Console.WriteLine("  http requests: chat-completion requests the simulated provider received (n/a for another server)");
    Console.WriteLine("  elapsed:       wall time of the replay, triggers fired at their seeded moments");
    return 0;

    async Task<Result> Run(string name, bool merging, Func<SupportAssistant, SupportMessage, Task<string>> call)
    {
        var assistant = new SupportAssistant(chat);
        int requestsBefore = simulated?.Requests ?? 0;
        TimeSpan elapsed = await traffic.ReplayAsync(message => call(assistant, message));
        int answeredByOthers = traffic.Triggers - assistant.Executions;
        return new Result(
            name,
            traffic.Triggers,
            assistant.ModelCalls,
            assistant.Executions,
            Shared: merging ? 0 : answeredByOthers,
            Merged: merging ? answeredByOthers : 0,
            Retries: assistant.ModelCalls - assistant.Executions,
            assistant.Fallbacks,
            simulated?.Requests - requestsBefore,
            elapsed);
    }
}

internal sealed record Result(
    string Name, int Requested, int ModelCalls, int Executions, int Shared, int Merged, int Retries, int Fallbacks, int? HttpRequests, TimeSpan Elapsed);
