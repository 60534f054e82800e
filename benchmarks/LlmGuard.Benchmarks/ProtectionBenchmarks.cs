using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using LlmGuard.Configuration;

namespace LlmGuard.Benchmarks;

/// <summary>
/// What a scene's protection adds to one call whose core completes synchronously: a closed circuit breaker, limits with
/// free permits, and both, against the same method on a runtime whose scene configures none of it.
/// </summary>
[MemoryDiagnoser]
public class ProtectionBenchmarks
{
    private readonly TelemetryDesk _unprotected = new(new GuardRuntime());
    private readonly TelemetryDesk _breaker = Desk(s => s.BreakerFailureRatio = 0.5);
    private readonly TelemetryDesk _limits = Desk(s => { s.MaxConcurrency = 1_000; s.MaxQueue = 1_000; s.RateLimit = int.MaxValue; });
    private readonly TelemetryDesk _both = Desk(s => { s.BreakerFailureRatio = 0.5; s.MaxConcurrency = 1_000; s.MaxQueue = 1_000; s.RateLimit = int.MaxValue; });

    [Benchmark(Baseline = true, Description = "[Guarded], scene without protection")]
    public Task<string> Unprotected() => _unprotected.AskAsync("user-1", "where is my order?", CancellationToken.None);

    [Benchmark(Description = "[Guarded], breaker closed")]
    public Task<string> BreakerClosed() => _breaker.AskAsync("user-1", "where is my order?", CancellationToken.None);

    [Benchmark(Description = "[Guarded], concurrency + rate limit, permits free")]
    public Task<string> LimitsFree() => _limits.AskAsync("user-1", "where is my order?", CancellationToken.None);

    [Benchmark(Description = "[Guarded], breaker closed + limits, permits free")]
    public Task<string> BreakerAndLimits() => _both.AskAsync("user-1", "where is my order?", CancellationToken.None);

    /// <summary>
    /// The four rows again, measured in rounds that take turns (a different row first in each round), so that a machine
    /// whose speed drifts between BenchmarkDotNet's processes slows every row alike; prints each row's median time per
    /// call and its ratio to the unprotected row's median.
    /// </summary>
    /// <param name="rounds">How many rounds; each measures every row once.</param>
    public static void RunInterleaved(int rounds)
    {
        var self = new ProtectionBenchmarks();
        (string Name, Func<Task<string>> Call)[] rows =
        [
            ("[Guarded], scene without protection", self.Unprotected),
            ("[Guarded], breaker closed", self.BreakerClosed),
            ("[Guarded], concurrency + rate limit, permits free", self.LimitsFree),
            ("[Guarded], breaker closed + limits, permits free", self.BreakerAndLimits),
        ];
        const int CallsPerMeasurement = 200_000;
        var times = rows.Select(_ => new List<double>()).ToArray();
        foreach ((string _, Func<Task<string>> call) in rows)
        {
            Measure(call, CallsPerMeasurement);
        }

        for (int round = 0; round < rounds; round++)
        {
            for (int turn = 0; turn < rows.Length; turn++)
            {
                int row = (round + turn) % rows.Length;
                times[row].Add(Measure(rows[row].Call, CallsPerMeasurement));
            }
        }

        double baseline = Median(times[0]);
        Console.WriteLine($"| Row | Median per call | Ratio to unprotected | ({rounds} rounds of {CallsPerMeasurement:N0} calls per row, interleaved) |");
        Console.WriteLine("|---|---:|---:|---|");
        for (int row = 0; row < rows.Length; row++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {rows[row].Name} | {Median(times[row]):F1} ns | {Median(times[row]) / baseline:F2} | |"));
        }

        static double Measure(Func<Task<string>> call, int calls)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < calls; i++)
            {
                // Every row's core completes synchronously, so the task is complete when it returns.
                _ = call().GetAwaiter().GetResult();
            }

            return Stopwatch.GetElapsedTime(start).TotalNanoseconds / calls;
        }

        static double Median(List<double> values)
        {
            double[] sorted = values.Order().ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
        }
    }

    private static TelemetryDesk Desk(Action<LlmSceneOptions> configure)
    {
        var scene = new LlmSceneOptions();
        configure(scene);
        return new TelemetryDesk(new GuardRuntime { Options = new LlmGuardOptions { Scenes = { ["support"] = scene } } });
    }
}
