using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;

namespace LlmGuard.Benchmarks;

/// <summary>The cost of one call joining a merge window: 100 calls join, the window closes, one execution answers all.</summary>
[MemoryDiagnoser]
public partial class MergeWindowBenchmarks
{
    private const int Joined = 100;
    private static readonly Task<string> s_answer = Task.FromResult("merged answer");

    private readonly Task<string>[] _calls = new Task<string>[Joined];
    private readonly StepClock _clock = new();
    private GuardRuntime _runtime = GuardRuntime.Default;

    [GlobalSetup]
    public void Setup() => _runtime = new GuardRuntime(_clock);

    [Benchmark(OperationsPerInvoke = Joined, Description = "join a merge window (per call)")]
    public async Task JoinAndClose()
    {
        for (int i = 0; i < Joined; i++)
        {
            _calls[i] = ReplyAsync("session-1", "message " + i);
        }

        _clock.Fire();
        await Task.WhenAll(_calls);
    }

    [Guarded(Key = "{sessionId}", MergeWindowMs = 1000, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> ReplyAsync(string sessionId, [NotInKey] string message);

    private Task<string> ReplyCoreAsync(string sessionId, string message) => s_answer;

    /// <summary>A clock whose single pending timer fires when told to, so a window closes without waiting.</summary>
    internal sealed class StepClock : TimeProvider
    {
        private StepTimer? _pending;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            _pending = new StepTimer(callback, state);

        public void Fire()
        {
            StepTimer? timer = Interlocked.Exchange(ref _pending, null);
            timer?.Fire();
        }

        private sealed class StepTimer(TimerCallback callback, object? state) : ITimer
        {
            private int _fired;

            public void Fire()
            {
                if (Interlocked.Exchange(ref _fired, 1) == 0)
                {
                    callback(state);
                }
            }

            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose() => Interlocked.Exchange(ref _fired, 1);

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}

/// <summary>
/// The cost of a whole burst joining a window with <see cref="MergeAppendAttribute">[MergeAppend]</see> parameters:
/// a join records its call and the close combines them once, so ten times the joins cost about ten times as much,
/// not a hundred times.
/// </summary>
[MemoryDiagnoser]
public partial class MergeAppendBenchmarks
{
    private static readonly Task<string> s_answer = Task.FromResult("merged answer");

    private readonly MergeWindowBenchmarks.StepClock _clock = new();
    private GuardRuntime _runtime = GuardRuntime.Default;
    private Task<string>[] _calls = Array.Empty<Task<string>>();
    private string[] _messages = Array.Empty<string>();
    private int[][] _ids = Array.Empty<int[]>();

    [Params(1_000, 10_000)]
    public int Joins { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _runtime = new GuardRuntime(_clock);
        _calls = new Task<string>[Joins];
        _messages = new string[Joins];
        _ids = new int[Joins][];
        for (int i = 0; i < Joins; i++)
        {
            _messages[i] = "message " + i;
            _ids[i] = new[] { i };
        }
    }

    [Benchmark(Description = "join a merge window with [MergeAppend] values (whole burst)")]
    public async Task AppendJoinsAndClose()
    {
        for (int i = 0; i < Joins; i++)
        {
            _calls[i] = ReplyToAllAsync("session-1", _messages[i], _ids[i]);
        }

        _clock.Fire();
        await Task.WhenAll(_calls);
    }

    [Guarded(Key = "{sessionId}", MergeWindowMs = 1000, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> ReplyToAllAsync(string sessionId, [MergeAppend] string messages, [MergeAppend] IReadOnlyList<int> ids);

    private Task<string> ReplyToAllCoreAsync(string sessionId, string messages, IReadOnlyList<int> ids) => s_answer;
}
