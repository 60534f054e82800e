using System;
using LlmGuard.Replay;
using LlmGuard.Replay.Traffic;

var trace = ReplayTrace.Generate(int.Parse(args[0]), 2026);
Console.WriteLine($"{trace.Triggers.Count} triggers, {trace.Sessions} sessions, {trace.Turns} turns, {trace.Submits} submits");
foreach (ReplayWay way in Enum.GetValues<ReplayWay>())
{
    Console.WriteLine(ReplayRunner.Run(trace, way, 2026, 0.05));
}
