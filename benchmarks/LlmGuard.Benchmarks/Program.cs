using BenchmarkDotNet.Running;

// `--interleaved-protection [rounds]`: the protection rows measured in alternating rounds, for a machine too busy for
// BenchmarkDotNet's one-process-per-row runs to compare them.
if (args is ["--interleaved-protection", ..])
{
    LlmGuard.Benchmarks.ProtectionBenchmarks.RunInterleaved(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 30);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(LlmGuard.Benchmarks.HotPathBenchmarks).Assembly).Run(args);
