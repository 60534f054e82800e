using System;
using System.Linq;
using System.Threading.Tasks;
using QuickStart;

// A support desk under real traffic: many sessions at once. In every turn a user types one to three messages in
// quick succession, and each message arrives as a small burst of duplicate triggers (double clicks, page retries,
// webhook redelivery). The same seeded traffic runs twice: once through a singleflight keyed by message, once
// through a merge window keyed by session that answers each burst of messages with one model call.
var traffic = SupportTraffic.Generate(seed: 2026, sessions: 40, turnsPerSession: 3);

Result[] results =
[
    await Run("singleflight per message", traffic, static (assistant, message) => assistant.ReplyAsync(message)),
    await Run("+ merge window per session", traffic, static (assistant, message) => assistant.ReplyToBurstAsync(message.SessionId, message.Text, [message.MessageId])),
];

Console.WriteLine("LlmGuard QuickStart: support-chat triggers against a simulated model (150-450 ms, 20% 503s, 5% hangs)");
Console.WriteLine();
Console.WriteLine($"  {"configuration",-28}{"requested",10}{"model calls",13}{"shared",8}{"merged",8}{"retries",9}{"fallbacks",11}{"elapsed",9}");
foreach (Result r in results)
{
    Console.WriteLine($"  {r.Name,-28}{r.Requested,10}{r.ModelCalls,13}{r.Shared,8}{r.Merged,8}{r.Retries,9}{r.Fallbacks,11}{r.Elapsed.TotalSeconds,8:F1}s");
}

Console.WriteLine();
Console.WriteLine("shared: calls answered by another caller's execution; merged: calls folded into a burst's one execution.");

static async Task<Result> Run(string name, SupportTraffic traffic, Func<SupportAssistant, ChatMessage, Task<string>> call)
{
    var model = new SimulatedModel(seed: 7, faultRate: 0.2, hangRate: 0.05);
    var assistant = new SupportAssistant(model);
    TimeSpan elapsed = await traffic.ReplayAsync(message => call(assistant, message));
    int executions = assistant.Executions;
    bool merging = name.Contains("merge", StringComparison.Ordinal);
    return new Result(
        name,
        traffic.Triggers,
        model.Calls,
        Shared: merging ? 0 : traffic.Triggers - executions,
        Merged: merging ? traffic.Triggers - executions : 0,
        Retries: model.Calls - executions,
        assistant.Fallbacks,
        elapsed);
}

internal sealed record Result(string Name, int Requested, int ModelCalls, int Shared, int Merged, int Retries, int Fallbacks, TimeSpan Elapsed);
