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

    private static TelemetryDesk Desk(System.Action<LlmSceneOptions> configure)
    {
        var scene = new LlmSceneOptions();
        configure(scene);
        return new TelemetryDesk(new GuardRuntime { Options = new LlmGuardOptions { Scenes = { ["support"] = scene } } });
    }
}
