using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;

namespace LlmGuard.Benchmarks.Redis;

/// <summary>
/// <c>--redis-burst [rounds]</c>: four instances (a container, runtime and multiplexer each) on a redis-server of
/// their own, each hit by 250 callers at once over the same 10 keys per round, with a model that takes 200 ms.
/// Prints the executions per key of each round (the goal is 1.0), then the same burst on instances without Redis.
/// </summary>
/// <remarks>
/// The instances keep the default bounds (a 250 ms RedisTimeout among them): a Redis step slower than that on a busy
/// machine runs the execution locally, and shows here as more than one execution per key.
/// </remarks>
internal static class RedisBurst
{
    private const int Instances = 4;
    private const int CallersPerInstance = 250;
    private const int Keys = 10;
    private static readonly TimeSpan s_modelLatency = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan s_roundBound = TimeSpan.FromSeconds(120);

    public static void Run(int rounds)
    {
        if (RedisServerProcess.Missing() is { } missing)
        {
            Console.WriteLine(missing);
            return;
        }

        using RedisServerProcess server = RedisServerProcess.Start();
        Console.WriteLine($"{Instances} instances x {CallersPerInstance} callers over {Keys} keys per round, model {s_modelLatency.TotalMilliseconds} ms, default bounds; redis-server on 127.0.0.1:{server.Port}");
        RunRounds("Distributed scene (AddRedis)", rounds, () => RedisInstances.Distributed(server.Configuration, "burst:"));

        // The yardstick: the same burst on instances that each guard alone, as without LlmGuard.Redis.
        RunRounds("Same scene local (no Redis)", rounds, RedisInstances.Local);
    }

    private static void RunRounds(string title, int rounds, Func<ServiceProvider> newInstance)
    {
        var executions = new ConcurrentDictionary<string, int>();
        ServiceProvider[] instances = [.. Enumerable.Range(0, Instances).Select(_ => newInstance())];
        try
        {
            FlightDesk[] desks = [.. instances.Select((instance, index) => new FlightDesk(instance.GetRequiredService<GuardRuntime>(), async question =>
            {
                executions.AddOrUpdate(question, 1, static (_, count) => count + 1);
                await Task.Delay(s_modelLatency).ConfigureAwait(false);
                return question + " answered by instance " + index.ToString(CultureInfo.InvariantCulture);
            }))];

            // Not reported: the first round pays for JIT and the connections' first use.
            _ = RunRound(desks, "warm-up", executions);
            Console.WriteLine();
            Console.WriteLine(title);
            Console.WriteLine();
            Console.WriteLine("| Round | Callers | Answered | One answer per key | Executions | Executions/key | Max/key | Wall | Caller P50 | Caller P99 |");
            Console.WriteLine("|------:|--------:|---------:|:------------------:|-----------:|---------------:|--------:|-----:|-----------:|-----------:|");
            int totalExecutions = 0;
            int worst = 0;
            for (int round = 1; round <= rounds; round++)
            {
                Round result = RunRound(desks, round.ToString(CultureInfo.InvariantCulture), executions);
                totalExecutions += result.Executions;
                worst = Math.Max(worst, result.MaxPerKey);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {round} | {result.Callers} | {result.Answered} | {(result.OneAnswerPerKey ? "yes" : "no")} | {result.Executions} | {(double)result.Executions / Keys:0.00} | {result.MaxPerKey} | {result.Wall.TotalMilliseconds:0} ms | {result.P50:0} ms | {result.P99:0} ms |"));
            }

            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{title}: {(double)totalExecutions / (rounds * Keys):0.000} executions per key over {rounds} rounds, worst key {worst}."));
        }
        finally
        {
            foreach (ServiceProvider instance in instances)
            {
                instance.Dispose();
            }
        }
    }

    private static Round RunRound(FlightDesk[] desks, string round, ConcurrentDictionary<string, int> executions)
    {
        string[] keys = [.. Enumerable.Range(0, Keys).Select(key => $"round-{round}-key-{key}")];
        var calls = new Task<(string Key, string Answer, double Milliseconds)>[Instances][];
        using var start = new Barrier(Instances);
        Stopwatch wall = Stopwatch.StartNew();

        // One thread per instance, released together: the callers of all four arrive in the same instant.
        Task[] issuers = [.. Enumerable.Range(0, Instances).Select(instance => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            calls[instance] = [.. Enumerable.Range(0, CallersPerInstance).Select(caller => TimedAsync(desks[instance], keys[caller % Keys]))];
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))];
        Task.WaitAll(issuers, s_roundBound);
        var all = calls.SelectMany(c => c).ToArray();
        _ = Task.WhenAll(all).Wait(s_roundBound);
        wall.Stop();

        var answered = all.Where(c => c.IsCompletedSuccessfully).Select(c => c.Result).ToArray();
        double[] latencies = [.. answered.Select(a => a.Milliseconds).Order()];
        return new Round(
            Callers: all.Length,
            Answered: answered.Length,
            OneAnswerPerKey: answered.GroupBy(a => a.Key).All(key => key.Select(a => a.Answer).Distinct().Count() == 1),
            Executions: keys.Sum(key => executions.GetValueOrDefault(key)),
            MaxPerKey: keys.Max(key => executions.GetValueOrDefault(key)),
            Wall: wall.Elapsed,
            P50: Percentile(latencies, 0.50),
            P99: Percentile(latencies, 0.99));
    }

    private static async Task<(string Key, string Answer, double Milliseconds)> TimedAsync(FlightDesk desk, string key)
    {
        long started = Stopwatch.GetTimestamp();
        string answer = await desk.AskAsync(key).ConfigureAwait(false);
        return (key, answer, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private static double Percentile(double[] sorted, double percentile) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(percentile * sorted.Length) - 1)];

    private sealed record Round(int Callers, int Answered, bool OneAnswerPerKey, int Executions, int MaxPerKey, TimeSpan Wall, double P50, double P99);
}
