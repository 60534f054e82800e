using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(LlmGuard.Benchmarks.HotPathBenchmarks).Assembly).Run(args);
