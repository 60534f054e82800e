using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using LlmGuard.Replay;
using LlmGuard.Replay.Traffic;
using LlmGuard.Replay.VirtualTime;
using Spectre.Console;

// Replays seeded traffic on a simulated model in virtual time, and reports what each way cost and what its callers
// saw: customer-service chat four ways (unguarded, singleflight, singleflight + merge window, the same + cache), FAQ
// traffic three ways (unguarded, singleflight, singleflight + cache).
//   dotnet LlmGuard.Replay.dll [--traffic chat|faq|both|outage] [--triggers N] [--seed S] [--fault-rate F] [--markdown PATH]
//     [--quiescence-samples K] [--merge-quiet-ms MS] [--merge-max-wait-ms MS]

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

if (arguments.Outage)
{
    string outage = OutageReplay.Table(OutageReplay.Run(arguments.Seed));
    Console.WriteLine(outage);
    File.WriteAllText(arguments.MarkdownPath, outage);
    return 0;
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

var settings = new ReplaySettings(triggers, seed, faultRate, arguments.CachedWindow);
var machineTime = Stopwatch.StartNew();

// One job per traffic and way; both traffics share the seed, the fault rate and the size.
var jobs = new List<ReplayJob>();
ReplayTrace? chat = null;
FaqTrace? faq = null;
if (arguments.Chat)
{
    chat = ReplayTrace.Generate(triggers, seed);
    AnsiConsole.MarkupLine($"Chat trace: [bold]{chat.Triggers.Count:N0}[/] triggers, {chat.Sessions:N0} sessions, {chat.Turns:N0} turns, seed {seed}, fault rate {faultRate:P1}");
    ReplayTrace warmUp = ReplayTrace.Generate(Math.Min(2_000, triggers), seed + 1);
    jobs.AddRange(ReplayRunner.ChatWays.Select(way => new ReplayJob(
        "chat: " + ReplayReport.Name(way),
        chat.Triggers.Count,
        () => ReplayRunner.Run(warmUp, way, seed, faultRate, cachedWindow: arguments.CachedWindow),
        progress => ReplayRunner.Run(chat, way, seed, faultRate, progress, arguments.CachedWindow))));
}

if (arguments.Faq)
{
    faq = FaqTrace.Generate(triggers, seed);
    AnsiConsole.MarkupLine($"FAQ trace: [bold]{faq.Triggers.Count:N0}[/] triggers, {faq.Sessions:N0} sessions, {faq.Users:N0} users, {faq.Questions:N0} questions, seed {seed}, fault rate {faultRate:P1}");
    FaqTrace warmUp = FaqTrace.Generate(Math.Min(2_000, triggers), seed + 1);
    jobs.AddRange(FaqRunner.Ways.Select(way => new ReplayJob(
        "faq: " + ReplayReport.Name(way),
        faq.Triggers.Count,
        () => FaqRunner.Run(warmUp, way, seed, faultRate),
        progress => FaqRunner.Run(faq, way, seed, faultRate, progress))));
}

var results = new WayResult[jobs.Count];
var progresses = jobs.Select(_ => new ReplayProgress()).ToArray();
Exception? failure = null;

// The jobs run one after the other on their own threads; the progress display only reads their counters.
var replay = new Thread(() =>
{
    try
    {
        // The first calls of every code path are JIT-compiled; doing that on a small trace keeps compile pauses out of
        // the measured run, where they could be taken for quiescence (see ThreadPoolQuiescence).
        foreach (ReplayJob job in jobs)
        {
            job.WarmUp();
        }

        for (int j = 0; j < jobs.Count; j++)
        {
            results[j] = jobs[j].Run(progresses[j]);
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
            var tasks = jobs.Select(job => context.AddTask(job.Name, maxValue: job.Triggers)).ToArray();
            replay.Start();
            while (!replay.Join(TimeSpan.FromMilliseconds(100)))
            {
                Update();
            }

            Update();

            void Update()
            {
                for (int j = 0; j < jobs.Count; j++)
                {
                    tasks[j].Value = progresses[j].Finished;
                }
            }
        });
}
else
{
    // No terminal to redraw a bar on (redirected output, CI): one line per job as it finishes.
    replay.Start();
    int reported = 0;
    while (!replay.Join(TimeSpan.FromMilliseconds(200)) || reported < jobs.Count)
    {
        while (reported < jobs.Count && Volatile.Read(ref results[reported]) is { } done)
        {
            AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{jobs[reported].Name}: {done.Triggers:N0} callers done in {done.WallTime.TotalSeconds:F1} s ({done.VirtualDuration:hh\\:mm\\:ss} of virtual time)"));
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
var markdown = new StringBuilder();
int offset = 0;
if (chat is not null)
{
    var report = new ReplayReport(settings, chat, results[offset..(offset + ReplayRunner.ChatWays.Length)]);
    offset += ReplayRunner.ChatWays.Length;
    AnsiConsole.WriteLine();
    AnsiConsole.Write(report.ToTable());
    AnsiConsole.WriteLine();
    foreach (string line in report.Explanation())
    {
        AnsiConsole.WriteLine("• " + line);
    }

    markdown.Append(report.ToMarkdown(machineTime.Elapsed));
}

if (faq is not null)
{
    var report = new FaqReport(settings, faq, results[offset..]);
    AnsiConsole.WriteLine();
    AnsiConsole.Write(report.ToTable());
    AnsiConsole.WriteLine();
    foreach (string line in report.Explanation())
    {
        AnsiConsole.WriteLine("• " + line);
    }

    if (markdown.Length > 0)
    {
        markdown.AppendLine();
    }

    markdown.Append(report.ToMarkdown());
    if (chat is null)
    {
        // The chat report carries them otherwise.
        ReportLayout.AppendList(markdown, "How virtual time works", ReplayReport.VirtualTimeNotes());
    }
}

AnsiConsole.WriteLine();
foreach (string line in ReplayReport.VirtualTimeNotes())
{
    AnsiConsole.WriteLine("• " + line);
}

File.WriteAllText(markdownPath, markdown.ToString());
AnsiConsole.WriteLine();
AnsiConsole.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Machine time: {machineTime.Elapsed.TotalSeconds:F1} s. Markdown written to {markdownPath}"));

// A guarded way that served a wrong answer (stale, another tenant's, another user's) or left a caller waiting fails the run.
bool failed = results.Any(result => result.UnfinishedCallers > 0
    || (result.Way != ReplayWay.Unguarded && (result.StaleResults > 0 || result.CrossTenant > 0 || result.CrossUser > 0)));
return failed ? 3 : 0;

/// <summary>One way of one traffic: its name on the progress display, a warm-up on a small trace, and the measured run.</summary>
internal sealed record ReplayJob(string Name, int Triggers, Action WarmUp, Func<ReplayProgress, WayResult> Run);
