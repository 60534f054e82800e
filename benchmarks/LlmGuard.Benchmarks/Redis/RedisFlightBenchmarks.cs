using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Perfolizer.Mathematics.OutlierDetection;
using StackExchange.Redis;

namespace LlmGuard.Benchmarks.Redis;

/// <summary>
/// What a Distributed scene adds to one call, against the same scene local, on a redis-server of the benchmark's own
/// (loopback). Leader: nobody else calls the key, so the call takes the lease, runs, publishes and releases. Follower:
/// another caller's execution is in flight when the call arrives; measured from the moment that execution's model
/// answers to the moment the follower has the answer (locally it joined the flight; distributed, another instance
/// holds the lease and the answer travels through Redis).
/// </summary>
/// <remarks>
/// Each measurement is one call (Monitoring, one invocation per iteration) and outliers are kept, so P50 and P99 are
/// per-call percentiles.
/// </remarks>
[Config(typeof(PerCallConfig))]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class RedisFlightBenchmarks
{
    private const string Question = "which plan";
    private static readonly TimeSpan s_setupBound = TimeSpan.FromSeconds(10);
    private static readonly Task<string> s_answer = Task.FromResult("the yearly plan");

    private readonly string _prefix = "bench-" + Guid.NewGuid().ToString("N") + ":";
    private RedisServerProcess? _server;
    private ConnectionMultiplexer? _admin;
    private ServiceProvider? _localInstance;
    private ServiceProvider? _leaderInstance;
    private ServiceProvider? _followerInstance;
    private FlightDesk _local = null!;
    private FlightDesk _distributed = null!;
    private FlightDesk _heldLocal = null!;
    private FlightDesk _heldDistributed = null!;
    private FlightDesk _following = null!;

    private TaskCompletionSource<string> _modelAnswer = new();
    private TaskCompletionSource _modelEntered = new();
    private Task<string> _leaderCall = s_answer;
    private Task<string> _followerCall = s_answer;
    private int _flights;

    [GlobalSetup]
    public void Setup()
    {
        _server = RedisServerProcess.Start();
        _admin = ConnectionMultiplexer.Connect(_server.Configuration);
        _localInstance = RedisInstances.Local();
        _leaderInstance = RedisInstances.Distributed(_server.Configuration, _prefix);
        _followerInstance = RedisInstances.Distributed(_server.Configuration, _prefix);
        _local = new FlightDesk(Runtime(_localInstance), static _ => s_answer);
        _distributed = new FlightDesk(Runtime(_leaderInstance), static _ => s_answer);
        _heldLocal = new FlightDesk(Runtime(_localInstance), HeldModel);
        _heldDistributed = new FlightDesk(Runtime(_leaderInstance), HeldModel);
        _following = new FlightDesk(Runtime(_followerInstance), static _ => throw new InvalidOperationException("The follower ran the execution itself: it was not following."));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (ServiceProvider? instance in new[] { _followerInstance, _leaderInstance, _localInstance })
        {
            instance?.Dispose();
        }

        _admin?.Dispose();
        _server?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "local")]
    [BenchmarkCategory("leader")]
    public Task<string> LeaderLocal() => _local.AskAsync(Question);

    [Benchmark(Description = "distributed")]
    [BenchmarkCategory("leader")]
    public Task<string> LeaderDistributed() => _distributed.AskAsync(Question);

    [IterationSetup(Target = nameof(FollowerLocal))]
    public void JoinLocalFlight()
    {
        StartLeader(_heldLocal, Question);
        _followerCall = _heldLocal.AskAsync(Question);
    }

    [Benchmark(Baseline = true, Description = "local")]
    [BenchmarkCategory("follower")]
    public Task<string> FollowerLocal()
    {
        _modelAnswer.SetResult("the yearly plan");
        return _followerCall;
    }

    [IterationSetup(Target = nameof(FollowerDistributed))]
    public void FollowRemoteFlight()
    {
        // A key of its own per measurement: the previous follower's unsubscription (fire and forget) cannot pass for
        // this one's subscription.
        string question = "plan-" + (++_flights).ToString(CultureInfo.InvariantCulture);
        StartLeader(_heldDistributed, question);
        _followerCall = _following.AskAsync(question);

        // The follower has subscribed to the result's channel: it failed the lease and waits for the announcement.
        IServer server = _admin!.GetServer(_admin.GetEndPoints()[0]);
        Stopwatch waited = Stopwatch.StartNew();
        while (((RedisResult[])server.Execute("PUBSUB", "CHANNELS", _prefix + "done:*:" + question)!).Length == 0)
        {
            if (waited.Elapsed > s_setupBound || _followerCall.IsCompleted)
            {
                throw new InvalidOperationException("The second instance did not wait for the first one's result.", _followerCall.Exception);
            }

            Thread.Sleep(1);
        }
    }

    [Benchmark(Description = "distributed")]
    [BenchmarkCategory("follower")]
    public Task<string> FollowerDistributed()
    {
        _modelAnswer.SetResult("the yearly plan");
        return _followerCall;
    }

    [IterationCleanup(Targets = [nameof(FollowerLocal), nameof(FollowerDistributed)])]
    public void EndLeader()
    {
        // The next measurement starts a new leader on the same runtime; this one must be done, not left behind.
        if (!_leaderCall.Wait(s_setupBound))
        {
            throw new InvalidOperationException("The leader's call did not end.");
        }
    }

    private void StartLeader(FlightDesk desk, string question)
    {
        _modelAnswer = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _modelEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _leaderCall = desk.AskAsync(question);
        if (!_modelEntered.Task.Wait(s_setupBound))
        {
            throw new InvalidOperationException("The leader's execution did not start.");
        }
    }

    private Task<string> HeldModel(string question)
    {
        _modelEntered.TrySetResult();
        return _modelAnswer.Task;
    }

    private static GuardRuntime Runtime(ServiceProvider instance) => instance.GetRequiredService<GuardRuntime>();

    private sealed class PerCallConfig : ManualConfig
    {
        public PerCallConfig()
        {
            // One call per measurement and no outlier removal: the percentiles are those of single calls. The counts
            // keep a run to about a minute per row on a small, shared machine.
            AddJob(Job.Default
                .WithStrategy(RunStrategy.Monitoring)
                .WithLaunchCount(1)
                .WithWarmupCount(50)
                .WithIterationCount(1000)
                .WithInvocationCount(1)
                .WithUnrollFactor(1)
                .WithOutlierMode(OutlierMode.DontRemove));
            AddColumn(StatisticColumn.P50, new PercentileColumn(99));

            // The median is P50 again; the ratios of unpaired single calls mean little: the added latency is the
            // difference between the rows' percentiles.
            HideColumns("Median", "Ratio", "RatioSD");
        }
    }
}
