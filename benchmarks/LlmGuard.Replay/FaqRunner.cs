using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Replay.Caching;
using LlmGuard.Replay.Traffic;
using LlmGuard.Replay.VirtualTime;

namespace LlmGuard.Replay;

/// <summary>Replays an FAQ trace one way, in virtual time, and checks every caller's answer.</summary>
public static class FaqRunner
{
    /// <summary>The ways the FAQ trace is replayed, in report order.</summary>
    public static readonly ReplayWay[] Ways = [ReplayWay.Unguarded, ReplayWay.SingleFlight, ReplayWay.SingleFlightAndCache];

    /// <summary>Replays <paramref name="trace"/> on a thread of its own (see <see cref="ReplayRunner.StartAsync"/>) and returns when every event has happened.</summary>
    public static WayResult Run(FaqTrace trace, ReplayWay way, int seed, double faultRate, ReplayProgress? progress = null)
    {
        ArgumentNullException.ThrowIfNull(trace);
        WayResult? result = null;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = RunOnThisThread(trace, way, seed, faultRate, progress ?? new ReplayProgress());
            }
            catch (Exception exception)
            {
                failure = exception;
            }
        })
        {
            IsBackground = true,
            Name = $"FAQ replay driver ({way})",
        };
        thread.Start();
        thread.Join();
        return failure is null ? result! : throw new InvalidOperationException($"The FAQ replay ({way}) failed.", failure);
    }

    /// <summary>
    /// What is wrong with <paramref name="answer"/> for the caller of <paramref name="trigger"/>. Every answer says whom
    /// it was computed for: it must be for the caller's tenant always, for the caller's user when the question is
    /// personal, and from the content version current at the caller's arrival (or a newer one).
    /// </summary>
    public static AnswerCheck Check(FaqTrigger trigger, FaqAnswer answer)
    {
        ArgumentNullException.ThrowIfNull(answer);
        AnswerCheck found = AnswerCheck.None;
        if (answer.ContentVersion < trigger.ContentVersion)
        {
            found |= AnswerCheck.Stale;
        }

        if (answer.Tenant != TenantName(trigger.Tenant))
        {
            found |= AnswerCheck.CrossTenant;
        }

        if (trigger.Personal && answer.User != UserName(trigger.User))
        {
            found |= AnswerCheck.CrossUser;
        }

        if (answer.FromFallback)
        {
            found |= AnswerCheck.FromFallback;
        }

        return found;
    }

    public static string TenantName(int tenant) => string.Create(CultureInfo.InvariantCulture, $"tenant-{tenant:D2}");

    public static string UserName(int user) => string.Create(CultureInfo.InvariantCulture, $"user-{user:D5}");

    private static WayResult RunOnThisThread(FaqTrace trace, ReplayWay way, int seed, double faultRate, ReplayProgress progress)
    {
        var clock = new VirtualTimeProvider();
        var model = new SimulatedModel(clock, seed, faultRate);
        using var cache = new CacheServices(clock);
        var runtime = way == ReplayWay.SingleFlightAndCache
            ? new GuardRuntime(clock) { HybridCache = cache.HybridCache, MeterFactory = cache.MeterFactory }
            : new GuardRuntime(clock);
        var desk = new FaqDesk(model, runtime);
        var callers = new CallerLedger(trace.ArrivalTicks, clock, progress);

        Func<FaqTrigger, Task<FaqAnswer>> ask = way switch
        {
            ReplayWay.Unguarded => trigger => FaqDesk.AskModelAsync(model, TenantName(trigger.Tenant), UserName(trigger.User), trigger.Personal, trigger.Question, trigger.ContentVersion, CancellationToken.None),
            ReplayWay.SingleFlight => trigger => trigger.Personal
                ? desk.AnswerPersonalAsync(new FaqRequest(trigger.Question, trigger.ContentVersion))
                : desk.AnswerFaqAsync(new FaqRequest(trigger.Question, trigger.ContentVersion)),
            ReplayWay.SingleFlightAndCache => trigger => trigger.Personal
                ? desk.AnswerPersonalCachedAsync(new FaqRequest(trigger.Question, trigger.ContentVersion))
                : desk.AnswerFaqCachedAsync(new FaqRequest(trigger.Question, trigger.ContentVersion)),
            _ => throw new ArgumentOutOfRangeException(nameof(way)),
        };

        var wallClock = Stopwatch.StartNew();
        long steps = VirtualTimeDriver.Run(clock, trace.ArrivalTicks, index =>
        {
            FaqTrigger trigger = trace.Triggers[index];

            // What the help desk's endpoint does for each request: say whom the call is for.
            using LlmCallContextScope caller = LlmCallContext.Begin(
                tenant: TenantName(trigger.Tenant),
                user: UserName(trigger.User),
                conversation: trigger.Session.ToString(CultureInfo.InvariantCulture));
            _ = callers.TrackAsync(index, ask(trigger), CheckCaller);
        },
        everyCallerFinished: () => progress.Finished == trace.Triggers.Count);
        wallClock.Stop();

        AnswerCheck CheckCaller(int index, FaqAnswer answer) => Check(trace.Triggers[index], answer);

        return new WayResult(
            way,
            trace.Triggers.Count,
            ModelCalls: model.Calls,
            Executions: way == ReplayWay.Unguarded ? model.Calls : desk.Executions,
            MergeWindows: 0,
            ExtraExecutions: ExtraExecutions.None,
            FaqExecutions: FaqExecutions.Classify(desk.ExecutedAnswers, FaqDesk.FaqCacheSeconds * TimeSpan.TicksPerSecond, FaqDesk.PersonalCacheSeconds * TimeSpan.TicksPerSecond),
            callers.LatencyPercentiles(),
            StaleResults: callers.Stale,
            CrossTenant: callers.CrossTenant,
            CrossUser: callers.CrossUser,
            CacheHits: cache.CachedCalls,
            AttemptFailures: model.Failures,
            CallerFailures: callers.Failed,
            FallbackAnswers: callers.FallbackAnswers,
            FallbackExecutions: desk.Fallbacks,
            UnfinishedCallers: callers.Unfinished,
            VirtualDuration: clock.Elapsed,
            WallTime: wallClock.Elapsed,
            Steps: steps);
    }
}
