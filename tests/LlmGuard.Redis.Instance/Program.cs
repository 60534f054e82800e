using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Redis.Instance;
using Microsoft.Extensions.DependencyInjection;

// One instance of an application, driven over stdin/stdout by the process tests:
//   out "ready"                       the runtime is built and connected to Redis
//   in  "go"                          issue the burst: --callers-per-key calls for each of --keys, round-robin
//   out "issued"                      every call has joined this instance's flight for its key
//   out "answer\t<key>\t<n>\t<text>"  n callers of <key> got <text>
//   out "failed\t<key>\t<n>\t<error>" n callers of <key> got an exception
//   out "done"                        every call ended
// A closed stdin before "go" ends the process: the test that started it is gone.
Dictionary<string, string> options = ParseOptions(args);
var settings = new InstanceSettings(options["--redis"], options["--prefix"], options["--name"])
{
    LeaseTtl = Milliseconds(options, "--lease-ttl-ms", 15_000),
    FollowerWait = Milliseconds(options, "--follower-wait-ms", 30_000),
    RedisTimeout = Milliseconds(options, "--redis-timeout-ms", 5_000),
    HoldBound = Milliseconds(options, "--hold-bound-ms", 60_000),
};
string[] keys = options["--keys"].Split(',');
int callersPerKey = int.Parse(options["--callers-per-key"], CultureInfo.InvariantCulture);

await using ServiceProvider instance = await InstanceHost.StartAsync(settings);
CountingAssistant assistant = instance.GetRequiredService<CountingAssistant>();
Console.WriteLine("ready");

if (Console.ReadLine() != "go")
{
    return 1;
}

var calls = new List<(string Key, Task<string> Answer)>(keys.Length * callersPerKey);
for (int call = 0; call < callersPerKey; call++)
{
    foreach (string key in keys)
    {
        calls.Add((key, assistant.AskAsync(key)));
    }
}

Console.WriteLine("issued");
try
{
    await Task.WhenAll(calls.Select(c => c.Answer)).WaitAsync(settings.HoldBound + settings.FollowerWait);
}
catch (Exception)
{
    // Each call's own outcome is reported below.
}

foreach (var outcome in calls.GroupBy(c => (c.Key, Line: Outcome(c.Answer))))
{
    Console.WriteLine($"{outcome.Key.Line.Kind}\t{outcome.Key.Key}\t{outcome.Count()}\t{outcome.Key.Line.Text}");
}

Console.WriteLine("done");
return 0;

static (string Kind, string Text) Outcome(Task<string> answer) => answer.Status switch
{
    TaskStatus.RanToCompletion => ("answer", answer.Result),
    TaskStatus.Faulted => ("failed", answer.Exception!.InnerException!.GetType().Name + ": " + answer.Exception.InnerException.Message.ReplaceLineEndings(" ")),
    _ => ("failed", answer.Status.ToString()),
};

static Dictionary<string, string> ParseOptions(string[] args)
{
    var options = new Dictionary<string, string>(StringComparer.Ordinal);
    for (int i = 0; i + 1 < args.Length; i += 2)
    {
        options[args[i]] = args[i + 1];
    }

    return options;
}

static TimeSpan Milliseconds(Dictionary<string, string> options, string name, int otherwise) =>
    TimeSpan.FromMilliseconds(options.TryGetValue(name, out string? value) ? int.Parse(value, CultureInfo.InvariantCulture) : otherwise);
