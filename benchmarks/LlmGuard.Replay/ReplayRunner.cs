using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Replay.Caching;
using LlmGuard.Replay.Traffic;
using LlmGuard.Replay.VirtualTime;

namespace LlmGuard.Replay;

/// <summary>The ways a trace is replayed; <see cref="ReplayRunner.ChatWays"/> and <see cref="FaqRunner.Ways"/> say which apply to which traffic.</summary>
public enum ReplayWay
{
    /// <summary>Every trigger calls the model directly: no timeout, no retry, no fallback.</summary>
    Unguarded,

    /// <summary><see cref="SupportBot.AnswerAsync"/>: identical requests share one execution.</summary>
    SingleFlight,

    /// <summary><see cref="SupportBot.AnswerBurstAsync"/>: a merge window per session over the singleflight.</summary>
    SingleFlightAndMergeWindow,

    /// <summary><see cref="SupportBot.AnswerBurstCachedAsync"/>: the merge window over a singleflight whose answers are cached.</summary>
    SingleFlightMergeWindowAndCache,

    /// <summary>FAQ traffic: singleflight with cached answers, shared per tenant (FAQ) or per user (personal questions).</summary>
    SingleFlightAndCache,
}

/// <summary>Counts callers as they finish; shared by the driver's thread and the pool threads that complete calls.</summary>
public sealed class ReplayProgress
{
    private int _finished;

    public int Finished => Volatile.Read(ref _finished);

    internal void CallerFinished() => Interlocked.Increment(ref _finished);
}

/// <summary>Replays a trace one way, in virtual time, and measures what callers and the model saw.</summary>
public static class ReplayRunner
{
    /// <summary>The ways the customer-service chat trace is replayed, in report order.</summary>
    public static readonly ReplayWay[] ChatWays =
        [ReplayWay.Unguarded, ReplayWay.SingleFlight, ReplayWay.SingleFlightAndMergeWindow, ReplayWay.SingleFlightMergeWindowAndCache];

    /// <summary>
    /// Replays <paramref name="trace"/> and returns when every event has happened. Blocks the calling thread; the
    /// driver runs on a thread of its own, see <see cref="StartAsync"/>.
    /// </summary>
    public static WayResult Run(ReplayTrace trace, ReplayWay way, int seed, double faultRate, ReplayProgress? progress = null, MergeWindowSettings? cachedWindow = null) =>
        StartAsync(trace, way, seed, faultRate, progress, cachedWindow).GetAwaiter().GetResult();

    /// <summary>
    /// Starts replaying <paramref name="trace"/> on a dedicated thread, not a pool thread: the driver blocks while the
    /// pool works, and must not count as (or take the place of) pool work itself.
    /// </summary>
    /// <param name="cachedWindow">The merge window of <see cref="ReplayWay.SingleFlightMergeWindowAndCache"/>; by default the one <see cref="SupportBot"/> declares.</param>
    public static Task<WayResult> StartAsync(ReplayTrace trace, ReplayWay way, int seed, double faultRate, ReplayProgress? progress = null, MergeWindowSettings? cachedWindow = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var outcome = new TaskCompletionSource<WayResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                outcome.SetResult(RunOnThisThread(trace, way, seed, faultRate, progress ?? new ReplayProgress(), cachedWindow ?? MergeWindowSettings.Declared));
            }
            catch (Exception exception)
            {
                outcome.SetException(exception);
            }
        })
        {
            IsBackground = true,
            Name = $"Replay driver ({way})",
        };
        thread.Start();
        return outcome.Task;
    }

    private static WayResult RunOnThisThread(ReplayTrace trace, ReplayWay way, int seed, double faultRate, ReplayProgress progress, MergeWindowSettings cachedWindow)
    {
        var clock = new VirtualTimeProvider();
        var model = new SimulatedModel(clock, seed, faultRate);
        using var cache = new CacheServices(clock);
        var runtime = way == ReplayWay.SingleFlightMergeWindowAndCache
            ? new GuardRuntime(clock) { HybridCache = cache.HybridCache, MeterFactory = cache.MeterFactory, Options = WindowOptions(cachedWindow) }
            : new GuardRuntime(clock);
        var bot = new SupportBot(model, runtime);
        var callers = new CallerLedger(trace.ArrivalTicks, clock, progress);

        Func<Trigger, Task<Answer>> call = way switch
        {
            ReplayWay.Unguarded => trigger => model.CompleteAsync(trigger.Session, trigger.Revision, CancellationToken.None),
            ReplayWay.SingleFlight => trigger => bot.AnswerAsync(new AnswerRequest(trigger.Session, trigger.Revision)),
            ReplayWay.SingleFlightAndMergeWindow => trigger => bot.AnswerBurstAsync(trigger.Session, [trigger.Revision]),
            ReplayWay.SingleFlightMergeWindowAndCache => trigger =>
            {
                // What a chat endpoint does for each request: name the conversation the call is for.
                using LlmCallContextScope conversation = LlmCallContext.Begin(conversation: trigger.Session.ToString(CultureInfo.InvariantCulture));
                return bot.AnswerBurstCachedAsync(trigger.Session, [trigger.Revision]);
            },
            _ => throw new ArgumentOutOfRangeException(nameof(way)),
        };

        var wallClock = Stopwatch.StartNew();
        long steps = VirtualTimeDriver.Run(clock, trace.ArrivalTicks, index =>
        {
            Trigger trigger = trace.Triggers[index];
            _ = callers.TrackAsync(index, call(trigger), Check);
        },
        everyCallerFinished: () => progress.Finished == trace.Triggers.Count);
        wallClock.Stop();

        // A session is one user's conversation: an answer for another session is another user's.
        AnswerCheck Check(int index, Answer answer) =>
            (answer.Revision < trace.Triggers[index].Revision ? AnswerCheck.Stale : AnswerCheck.None)
            | (answer.Session != trace.Triggers[index].Session ? AnswerCheck.CrossUser : AnswerCheck.None)
            | (answer.FromFallback ? AnswerCheck.FromFallback : AnswerCheck.None);

        return new WayResult(
            way,
            trace.Triggers.Count,
            ModelCalls: model.Calls,
            Executions: way == ReplayWay.Unguarded ? model.Calls : bot.Executions,
            MergeWindows: bot.MergedExecutions,
            ExtraExecutions: ExtraExecutions.Classify(trace, bot.ExecutedRevisions, way == ReplayWay.SingleFlightMergeWindowAndCache ? cachedWindow.QuietMs : SupportBot.MergeQuietMs),
            FaqExecutions: FaqExecutions.None,
            callers.LatencyPercentiles(),
            StaleResults: callers.Stale,
            CrossTenant: 0,
            CrossUser: callers.CrossUser,
            CacheHits: cache.CachedCalls,
            AttemptFailures: model.Failures,
            CallerFailures: callers.Failed,
            FallbackAnswers: callers.FallbackAnswers,
            FallbackExecutions: bot.Fallbacks,
            UnfinishedCallers: callers.Unfinished,
            VirtualDuration: clock.Elapsed,
            WallTime: wallClock.Elapsed,
            Steps: steps);
    }

    // Configuration wins over the attribute, as in an application: the way to try another window without a rebuild.
    private static LlmGuardOptions? WindowOptions(MergeWindowSettings window) => window == MergeWindowSettings.Declared
        ? null
        : new LlmGuardOptions { Scenes = { [SupportBot.BurstCachedScene] = new LlmSceneOptions { MergeWindowMs = window.QuietMs, MergeMaxWaitMs = window.MaxWaitMs } } };
}
