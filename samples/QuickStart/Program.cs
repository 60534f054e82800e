using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using QuickStart;

// A support desk under real traffic: many sessions at once, and every message arrives as a small burst of
// duplicate triggers (double clicks, page retries, webhook redelivery). Every trigger calls the guarded method.
const int Sessions = 40;
const int TurnsPerSession = 3;
var random = new Random(2026);
var model = new SimulatedModel(seed: 7, faultRate: 0.2, hangRate: 0.05);
var assistant = new SupportAssistant(model);

var stopwatch = Stopwatch.StartNew();
int requested = 0;
await Task.WhenAll(Enumerable.Range(1, Sessions).Select(async session =>
{
    for (int turn = 1; turn <= TurnsPerSession; turn++)
    {
        int duplicates;
        int[] delays;
        lock (random)
        {
            duplicates = random.Next(1, 6);
            delays = Enumerable.Range(0, duplicates).Select(_ => random.Next(0, 40)).ToArray();
        }

        var message = new ChatTurn($"session-{session}", turn, $"Where is order #{1000 + session}? (message {turn})");
        await Task.WhenAll(delays.Select(async delay =>
        {
            await Task.Delay(delay);
            System.Threading.Interlocked.Increment(ref requested);
            await assistant.ReplyAsync(message);
        }));
    }
}));
stopwatch.Stop();

int executions = assistant.Executions;
Console.WriteLine("LlmGuard QuickStart: one guarded method under a burst of duplicate triggers");
Console.WriteLine();
Console.WriteLine($"  {"calls requested",-22}{requested,8}");
Console.WriteLine($"  {"model calls made",-22}{model.Calls,8}");
Console.WriteLine($"  {"calls shared",-22}{requested - executions,8}");
Console.WriteLine($"  {"retries",-22}{model.Calls - executions,8}");
Console.WriteLine($"  {"fallbacks",-22}{assistant.Fallbacks,8}");
Console.WriteLine($"  {"elapsed",-22}{stopwatch.Elapsed.TotalSeconds,7:F1}s");
Console.WriteLine();
Console.WriteLine($"Model faults seen: {model.Faults} (transient 503s and hangs cut off by the 1 s attempt timeout).");
