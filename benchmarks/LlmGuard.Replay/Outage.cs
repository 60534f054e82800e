using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Protection;
using LlmGuard.Replay.VirtualTime;

namespace LlmGuard.Replay;

/// <summary>
/// The model goes down for five minutes in the middle of ten: every call hangs until its attempt times out. Replayed
/// in virtual time twice, on the same arrivals, without and with the scene's circuit breaker, to show what callers
/// wait while the model is down.
/// </summary>
public static class OutageReplay
{
    public const int CallsPerSecond = 5;
    public static readonly TimeSpan Duration = TimeSpan.FromMinutes(10);
    public static readonly TimeSpan OutageStart = TimeSpan.FromMinutes(2);
    public static readonly TimeSpan OutageEnd = TimeSpan.FromMinutes(7);

    /// <summary>The breaker the second run configures on the scene, as an application would in <c>appsettings.json</c>.</summary>
    public static LlmSceneOptions Breaker => new()
    {
        BreakerFailureRatio = 0.5,
        BreakerMinimumThroughput = 10,
        BreakerSamplingMs = 10_000,
        BreakerBreakMs = 5_000,
    };

    public static IReadOnlyList<OutageResult> Run(int seed) =>
        [RunOnThread(seed, breaker: false), RunOnThread(seed, breaker: true)];

    public static string Table(IReadOnlyList<OutageResult> results)
    {
        var table = new System.Text.StringBuilder();
        table.AppendLine("| Way | Callers | Model calls | Rejected (breaker) | Fallback answers | p50 | p95 | p99 | p99 while down | Callers that waited ≥ 2 s |");
        table.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (OutageResult r in results)
        {
            table.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Way} | {r.Callers:N0} | {r.ModelCalls:N0} | {r.Rejected:N0} | {r.FallbackAnswers:N0} | {Ms(r.P50)} | {Ms(r.P95)} | {Ms(r.P99)} | {Ms(r.P99WhileDown)} | {r.WaitedTwoSeconds:N0} |"));
        }

        return table.ToString();

        static string Ms(TimeSpan t) => string.Create(CultureInfo.InvariantCulture, $"{t.TotalMilliseconds:N0} ms");
    }

    private static OutageResult RunOnThread(int seed, bool breaker)
    {
        OutageResult? result = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = RunOnThisThread(seed, breaker);
            }
            catch (Exception exception)
            {
                failure = exception;
            }
        })
        {
            IsBackground = true,
            Name = "Outage replay driver",
        };
        thread.Start();
        thread.Join();
        return failure is null ? result! : throw new InvalidOperationException("The outage replay failed.", failure);
    }

    private static OutageResult RunOnThisThread(int seed, bool breaker)
    {
        // Poisson arrivals, the same for both runs.
        var random = new Random(seed);
        var arrivals = new List<long>();
        for (double at = 0; at < Duration.TotalSeconds; at += -Math.Log(1 - random.NextDouble()) / CallsPerSecond)
        {
            arrivals.Add(TimeSpan.FromSeconds(at).Ticks);
        }

        var clock = new VirtualTimeProvider();
        var model = new OutageModel(clock, seed);
        var runtime = new GuardRuntime(clock)
        {
            Options = breaker ? new LlmGuardOptions { Scenes = { [OutageDesk.Scene] = Breaker } } : null,
        };
        var desk = new OutageDesk(runtime, model);
        long[] waited = new long[arrivals.Count];
        int finished = 0;
        int fallbacks = 0;

        VirtualTimeDriver.Run(clock, arrivals, index =>
        {
            long arrived = clock.GetTimestamp();
            _ = desk.ReplyAsync("session-" + index.ToString(CultureInfo.InvariantCulture)).ContinueWith(
                answer =>
                {
                    waited[index] = clock.GetTimestamp() - arrived;
                    if (answer.IsCompletedSuccessfully && answer.Result == OutageDesk.BusyReply)
                    {
                        Interlocked.Increment(ref fallbacks);
                    }

                    Interlocked.Increment(ref finished);
                },
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        },
        everyCallerFinished: () => Volatile.Read(ref finished) == arrivals.Count);

        long[] all = waited.Order().ToArray();
        long[] down = waited.Where((_, i) => arrivals[i] >= OutageStart.Ticks && arrivals[i] < OutageEnd.Ticks).Order().ToArray();
        return new OutageResult(
            breaker ? "breaker (ratio 0.5, 10 calls, 10 s window, 5 s break)" : "no breaker",
            arrivals.Count,
            model.Calls,
            desk.Rejected,
            fallbacks,
            Percentile(all, 0.50),
            Percentile(all, 0.95),
            Percentile(all, 0.99),
            Percentile(down, 0.99),
            all.Count(t => t >= TimeSpan.TicksPerSecond * 2));
    }

    private static TimeSpan Percentile(long[] sorted, double p) =>
        sorted.Length == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)]);
}

/// <summary>One run of <see cref="OutageReplay"/>: what its callers waited, in virtual time.</summary>
public sealed record OutageResult(
    string Way,
    int Callers,
    int ModelCalls,
    int Rejected,
    int FallbackAnswers,
    TimeSpan P50,
    TimeSpan P95,
    TimeSpan P99,
    TimeSpan P99WhileDown,
    int WaitedTwoSeconds);

/// <summary>A help desk reply: a 2 s attempt timeout, one retry, a static busy reply as the fallback.</summary>
public partial class OutageDesk(GuardRuntime runtime, OutageModel model)
{
    public const string Scene = "outage_reply";
    public const string BusyReply = "All agents are busy; we will answer shortly.";

    private int _rejected;

    public int Rejected => Volatile.Read(ref _rejected);

    [Guarded(Scene = Scene, TimeoutMs = 2_000, MaxRetries = 1, RetryDelayMs = 200, Fallback = nameof(Busy))]
    public partial Task<string> ReplyAsync(string session, CancellationToken cancellationToken = default);

    private Task<string> ReplyCoreAsync(string session, CancellationToken cancellationToken) => model.RespondAsync(session, cancellationToken);

    private string Busy(string session, Exception failure)
    {
        if (failure is LlmCircuitOpenException)
        {
            Interlocked.Increment(ref _rejected);
        }

        return BusyReply;
    }
}

/// <summary>A model that answers in about 800 ms, except while it is down, when no call ever returns.</summary>
public sealed class OutageModel(VirtualTimeProvider clock, int seed)
{
    private readonly Random _latency = new(seed + 7);
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public async Task<string> RespondAsync(string session, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        TimeSpan now = clock.Elapsed;
        if (now >= OutageReplay.OutageStart && now < OutageReplay.OutageEnd)
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, clock, cancellationToken).ConfigureAwait(false);
        }

        double median;
        lock (_latency)
        {
            median = 800 * Math.Exp(0.3 * (_latency.NextDouble() - 0.5));
        }

        await Task.Delay(TimeSpan.FromMilliseconds(median), clock, cancellationToken).ConfigureAwait(false);
        return "answer for " + session;
    }
}
