using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using Polly;

namespace LlmGuard.Benchmarks;

/// <summary>
/// A wave of 1,000 concurrent callers over 10 keys, with a core that completes asynchronously once the whole wave
/// has called: each key must execute once per wave. Reported per caller.
/// </summary>
[MemoryDiagnoser]
public partial class ContentionBenchmarks
{
    private const int Callers = 1000;
    private const int Keys = 10;
    private static readonly string[] s_sessions = Enumerable.Range(0, Keys).Select(i => "session-" + i).ToArray();

    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _handWrittenFlights = new();
    private readonly Task<string>[] _calls = new Task<string>[Callers];
    private ResiliencePipeline _pipeline = ResiliencePipeline.Empty;
    private TaskCompletionSource _waveIssued = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _executions;

    [GlobalSetup]
    public void Setup() => _pipeline = new ResiliencePipelineBuilder().AddTimeout(TimeSpan.FromSeconds(30)).Build();

    [IterationCleanup]
    public void CheckOneExecutionPerKeyPerWave()
    {
        if (_executions % Keys != 0)
        {
            throw new InvalidOperationException($"{_executions} executions is not one per key per wave.");
        }

        _executions = 0;
        _waveIssued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Callers, Description = "hand-written singleflight + Polly")]
    public async Task HandWritten()
    {
        for (int i = 0; i < Callers; i++)
        {
            _calls[i] = HandWrittenCallAsync(s_sessions[i % Keys]);
        }

        _waveIssued.TrySetResult();
        await Task.WhenAll(_calls);
    }

    [Benchmark(OperationsPerInvoke = Callers, Description = "LlmGuard [Guarded]")]
    public async Task Guarded()
    {
        for (int i = 0; i < Callers; i++)
        {
            _calls[i] = AskAsync(s_sessions[i % Keys]);
        }

        _waveIssued.TrySetResult();
        await Task.WhenAll(_calls);
    }

    [Guarded(Scene = "support", TimeoutMs = 30_000, MaxRetries = 0)]
    public partial Task<string> AskAsync(string sessionId);

    private async Task<string> AskCoreAsync(string sessionId)
    {
        Interlocked.Increment(ref _executions);
        await _waveIssued.Task;
        return "answer for " + sessionId;
    }

    private async Task<string> HandWrittenCallAsync(string sessionId)
    {
        string key = $"support:{sessionId}";
        Lazy<Task<string>> shared = _handWrittenFlights.GetOrAdd(key, _ => new Lazy<Task<string>>(() =>
            _pipeline.ExecuteAsync(static (state, token) => new ValueTask<string>(state.self.AskCoreAsync(state.sessionId)), (self: this, sessionId), CancellationToken.None).AsTask()));
        try
        {
            return await shared.Value;
        }
        finally
        {
            _handWrittenFlights.TryRemove(new(key, shared));
        }
    }
}
