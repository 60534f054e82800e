using System;
using System.Linq;
using System.Reflection;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;

// `--interleaved-protection [rounds]`: the protection rows measured in alternating rounds, for a machine too busy for
// BenchmarkDotNet's one-process-per-row runs to compare them.
if (args is ["--interleaved-protection", ..])
{
    LlmGuard.Benchmarks.ProtectionBenchmarks.RunInterleaved(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 30);
    return;
}

// `--redis-burst [rounds]`: executions per key across four instances under a burst, on a redis-server of its own.
if (args is ["--redis-burst", ..])
{
    LlmGuard.Benchmarks.Redis.RedisBurst.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 10);
    return;
}

Type[] benchmarks = [.. typeof(LlmGuard.Benchmarks.HotPathBenchmarks).Assembly.GetTypes()
    .Where(type => type.IsPublic && !type.IsAbstract && type.GetMethods().Any(method => method.IsDefined(typeof(BenchmarkAttribute))))];

// Without redis-server the Redis rows cannot run; the others still can.
if (LlmGuard.Benchmarks.Redis.RedisServerProcess.Missing() is { } missing)
{
    Console.WriteLine(missing);
    benchmarks = [.. benchmarks.Where(type => type != typeof(LlmGuard.Benchmarks.Redis.RedisFlightBenchmarks))];
}

BenchmarkSwitcher.FromTypes(benchmarks).Run(args);
