using System;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using LlmGuard.Replay;
using LlmGuard.Replay.Traffic;
using LlmGuard.Replay.VirtualTime;
using Spectre.Console;

// Replays seeded customer-service traffic three ways — unguarded, singleflight, singleflight + merge window — on a
// simulated model in virtual time, and reports what each way cost and what its callers saw.
//   dotnet LlmGuard.Replay.dll [--triggers N] [--seed S] [--fault-rate F] [--markdown PATH] [--quiescence-samples K]

if (args is ["-h"] or ["--help"])
{
    Console.WriteLine(ReplayArguments.Usage);
    return 0;
}

if (!ReplayArguments.TryParse(args, out ReplayArguments arguments, out string error))
{
    Console.Error.WriteLine(error);
    Console.Error.WriteLine(ReplayArguments.Usage);
    return 2;
}

if (arguments.QuiescenceSamples is { } samples)
{
    ThreadPoolQuiescence.StableSamples = samples;
}

int triggers = arguments.Triggers;
int seed = arguments.Seed;
double faultRate = arguments.FaultRate;
string markdownPath = arguments.MarkdownPath;

// Redirected output (CI logs, files): plain text, no colours, and room for the table instead of the 80-column default.
if (Console.IsOutputRedirected)
{
    AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
    {
        Ansi = AnsiSupport.No,
        ColorSystem = ColorSystemSupport.NoColors,
        Interactive = InteractionSupport.No,
        Out = new AnsiConsoleOutput(Console.Out),
    });
    AnsiConsole.Profile.Width = 200;
}

var settings = new ReplaySettings(triggers, seed, faultRate);
var machineTime = Stopwatch.StartNew();
ReplayTrace trace = ReplayTrace.Generate(triggers, seed);
AnsiConsole.MarkupLine($"Trace: [bold]{trace.Triggers.Count:N0}[/] triggers, {trace.Sessions:N0} sessions, {trace.Turns:N0} turns, seed {seed}, fault rate {faultRate:P1}");

ReplayWay[] ways = ReplayRunner.ChatWays;
var results = new WayResult[ways.Length];
var progresses = ways.Select(_ => new ReplayProgress()).ToArray();
Exception? failure = null;

// The ways run one after the other on their own threads; the progress display only reads their counters.
var replay = new Thread(() =>
{
    try
    {
        // The first calls of every code path are JIT-compiled; doing that on a small trace keeps compile pauses out of
        // the measured run, where they could be taken for quiescence (see ThreadPoolQuiescence).
        ReplayTrace warmUp = ReplayTrace.Generate(Math.Min(2_000, triggers), seed + 1);
        foreach (ReplayWay way in ways)
        {
            ReplayRunner.Run(warmUp, way, seed, faultRate);
        }

        for (int w = 0; w < ways.Length; w++)
        {
            results[w] = ReplayRunner.Run(trace, ways[w], seed, faultRate, progresses[w]);
        }
    }
    catch (Exception exception)
    {
        failure = exception;
    }
})
{ IsBackground = true, Name = "Replay" };

if (AnsiConsole.Profile.Capabilities.Interactive)
{
    AnsiConsole.Progress()
        .AutoClear(false)
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
        .Start(context =>
        {
            var tasks = ways.Select(way => context.AddTask(ReplayReport.Name(way), maxValue: trace.Triggers.Count)).ToArray();
            replay.Start();
            while (!replay.Join(TimeSpan.FromMilliseconds(100)))
            {
                Update();
            }

            Update();

            void Update()
            {
                for (int w = 0; w < ways.Length; w++)
                {
                    tasks[w].Value = progresses[w].Finished;
                }
            }
        });
}
else
{
    // No terminal to redraw a bar on (redirected output, CI): one line per way as it finishes.
    replay.Start();
    int reported = 0;
    while (!replay.Join(TimeSpan.FromMilliseconds(200)) || reported < ways.Length)
    {
        while (reported < ways.Length && Volatile.Read(ref results[reported]) is { } done)
        {
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ReplayReport.Name(done.Way)}: {done.Triggers:N0} callers done in {done.WallTime.TotalSeconds:F1} s ({done.VirtualDuration:hh\\:mm\\:ss} of virtual time)"));
            reported++;
        }

        if (failure is not null)
        {
            break;
        }
    }
}

if (failure is not null)
{
    AnsiConsole.WriteException(failure);
    return 1;
}

machineTime.Stop();
var report = new ReplayReport(settings, trace, results);
AnsiConsole.WriteLine();
AnsiConsole.Write(report.ToTable());
AnsiConsole.WriteLine();
foreach (string line in report.Explanation())
{
    AnsiConsole.WriteLine("• " + line);
}

AnsiConsole.WriteLine();
foreach (string line in ReplayReport.VirtualTimeNotes())
{
    AnsiConsole.WriteLine("• " + line);
}

File.WriteAllText(markdownPath, report.ToMarkdown(machineTime.Elapsed));
AnsiConsole.WriteLine();
AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Machine time: {machineTime.Elapsed.TotalSeconds:F1} s. Markdown written to {markdownPath}"));
return results.Any(result => result.UnfinishedCallers > 0 || (result.Way != ReplayWay.Unguarded && result.StaleResults > 0)) ? 3 : 0;
