using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Replay;
using LlmGuard.Replay.Traffic;
using LlmGuard.Replay.VirtualTime;

namespace LlmGuard.Tests;

/// <summary>
/// The customer-service replay (benchmarks/LlmGuard.Replay) on a small seeded trace: what its users read off the table
/// must hold whatever the machine's timing — no stale answer, no lost caller, each guard saving model calls.
/// The FAQ traffic has its own class, <see cref="FaqReplayTests"/>.
/// </summary>
public sealed class ReplayTests(ReplayTests.SmallReplay replay) : IClassFixture<ReplayTests.SmallReplay>
{
    [Theory]
    [InlineData(ReplayWay.SingleFlight)]
    [InlineData(ReplayWay.SingleFlightAndMergeWindow)]
    [InlineData(ReplayWay.SingleFlightMergeWindowAndCache)]
    public async Task A_guarded_way_never_answers_a_caller_from_an_older_revision_than_its_own(ReplayWay way)
    {
        WayResult result = await replay.ResultAsync(way);

        Assert.Equal(0, result.StaleResults);
    }

    [Theory]
    [InlineData(ReplayWay.SingleFlight)]
    [InlineData(ReplayWay.SingleFlightAndMergeWindow)]
    [InlineData(ReplayWay.SingleFlightMergeWindowAndCache)]
    public async Task A_guarded_way_never_answers_a_caller_with_another_sessions_answer(ReplayWay way)
    {
        WayResult result = await replay.ResultAsync(way);

        Assert.Equal(0, result.CrossUser);
    }

    [Theory]
    [InlineData(ReplayWay.Unguarded)]
    [InlineData(ReplayWay.SingleFlight)]
    [InlineData(ReplayWay.SingleFlightAndMergeWindow)]
    [InlineData(ReplayWay.SingleFlightMergeWindowAndCache)]
    public async Task Every_caller_of_a_way_gets_an_outcome(ReplayWay way)
    {
        WayResult result = await replay.ResultAsync(way);

        Assert.Equal(SmallReplay.Triggers, result.Triggers);
        Assert.Equal(0, result.UnfinishedCallers);
    }

    [Theory]
    [InlineData(ReplayWay.SingleFlight)]
    [InlineData(ReplayWay.SingleFlightAndMergeWindow)]
    public async Task Retries_and_the_fallback_leave_no_caller_with_a_failure_although_attempts_fail(ReplayWay way)
    {
        WayResult result = await replay.ResultAsync(way);

        Assert.True(result.AttemptFailures > 0, "the trace's fault rate should make some attempts fail");
        Assert.Equal(0, result.CallerFailures);
    }

    [Fact]
    public async Task Singleflight_executes_less_than_unguarded_and_the_merge_window_less_than_singleflight()
    {
        WayResult unguarded = await replay.ResultAsync(ReplayWay.Unguarded);
        WayResult singleFlight = await replay.ResultAsync(ReplayWay.SingleFlight);
        WayResult merged = await replay.ResultAsync(ReplayWay.SingleFlightAndMergeWindow);

        Assert.Equal(SmallReplay.Triggers, unguarded.Executions);
        Assert.True(singleFlight.Executions < unguarded.Executions, $"singleflight {singleFlight.Executions} vs unguarded {unguarded.Executions}");
        Assert.True(merged.Executions < singleFlight.Executions, $"merge window {merged.Executions} vs singleflight {singleFlight.Executions}");
        Assert.True(merged.ModelCalls < singleFlight.ModelCalls && singleFlight.ModelCalls < unguarded.ModelCalls);
    }

    [Fact]
    public async Task The_cache_answers_resubmits_of_answered_revisions_so_the_merge_window_with_it_executes_less()
    {
        WayResult merged = await replay.ResultAsync(ReplayWay.SingleFlightAndMergeWindow);
        WayResult cached = await replay.ResultAsync(ReplayWay.SingleFlightMergeWindowAndCache);

        Assert.True(cached.CacheHits > 0, "duplicates after a closed window should find their revision's answer in the cache");
        Assert.True(cached.Executions < merged.Executions, $"merge window + cache {cached.Executions} vs merge window {merged.Executions}");
        Assert.True(
            cached.ExtraExecutions.SameRevisionAgain < merged.ExtraExecutions.SameRevisionAgain,
            $"answered revisions executed again: {cached.ExtraExecutions.SameRevisionAgain} with the cache, {merged.ExtraExecutions.SameRevisionAgain} without");
    }

    [Fact]
    public void Executions_above_one_per_turn_are_each_put_in_one_class()
    {
        ReplayTrace trace = ReplayTrace.Generate(1_000, seed: 5);
        Trigger[] submits = trace.Triggers.Where(trigger => trigger.Kind != TriggerKind.Duplicate).ToArray();
        ExecutedRevision[] once = submits.Select(submit => new ExecutedRevision(submit.Session, submit.Revision, submit.AtTicks)).ToArray();
        ExecutedRevision[] twice = once.Concat(once.Select(execution => execution with { AtTicks = execution.AtTicks + TimeSpan.TicksPerMinute })).ToArray();

        ExtraExecutions eachSubmitOnce = ExtraExecutions.Classify(trace, once, SupportBot.MergeQuietMs);
        ExtraExecutions eachSubmitTwice = ExtraExecutions.Classify(trace, twice, SupportBot.MergeQuietMs);

        Assert.Equal(trace.Turns, eachSubmitOnce.TurnsAnswered);
        Assert.Equal(submits.Length - trace.Turns, eachSubmitOnce.Total);
        Assert.Equal(submits.Count(submit => submit.Kind == TriggerKind.Edit), eachSubmitOnce.EditAfterWindow);
        Assert.Equal(0, eachSubmitOnce.SameRevisionAgain);
        Assert.Equal(submits.Length, eachSubmitTwice.SameRevisionAgain);
        Assert.Equal(eachSubmitOnce.Total + submits.Length, eachSubmitTwice.Total);
    }

    [Fact]
    public void The_same_seed_gives_the_same_trace_and_another_seed_another()
    {
        ReplayTrace first = ReplayTrace.Generate(SmallReplay.Triggers, SmallReplay.Seed);
        ReplayTrace again = ReplayTrace.Generate(SmallReplay.Triggers, SmallReplay.Seed);
        ReplayTrace other = ReplayTrace.Generate(SmallReplay.Triggers, SmallReplay.Seed + 1);

        Assert.Equal(first.Triggers, again.Triggers);
        Assert.NotEqual(first.Triggers, other.Triggers);
        Assert.Equal(SmallReplay.Triggers, first.Triggers.Count);
        Assert.True(first.ArrivalTicks.Zip(first.ArrivalTicks.Skip(1)).All(pair => pair.First <= pair.Second), "triggers come in arrival order");
    }

    [Fact]
    public void A_duplicate_delivery_repeats_an_earlier_submit_of_its_session_with_its_revision()
    {
        ReplayTrace trace = ReplayTrace.Generate(SmallReplay.Triggers, SmallReplay.Seed);
        Dictionary<(int Session, int Revision), long> submittedAt = trace.Triggers
            .Where(trigger => trigger.Kind != TriggerKind.Duplicate)
            .ToDictionary(trigger => (trigger.Session, trigger.Revision), trigger => trigger.AtTicks);
        Trigger[] duplicates = trace.Triggers.Where(trigger => trigger.Kind == TriggerKind.Duplicate).ToArray();

        Assert.NotEmpty(duplicates);
        Assert.Contains(trace.Triggers, trigger => trigger.Kind == TriggerKind.Edit);
        Assert.All(duplicates, duplicate => Assert.True(
            submittedAt.TryGetValue((duplicate.Session, duplicate.Revision), out long at) && at <= duplicate.AtTicks,
            $"duplicate {duplicate} has no earlier submit"));
    }

    [Fact]
    public void The_virtual_clock_fires_timers_in_due_order_and_honours_change_and_dispose()
    {
        var clock = new VirtualTimeProvider();
        var fired = new List<string>();
        using ITimer late = clock.CreateTimer(_ => fired.Add($"late@{clock.Elapsed.TotalMilliseconds}"), null, TimeSpan.FromMilliseconds(300), Timeout.InfiniteTimeSpan);
        using ITimer early = clock.CreateTimer(_ => fired.Add($"early@{clock.Elapsed.TotalMilliseconds}"), null, TimeSpan.FromMilliseconds(100), Timeout.InfiniteTimeSpan);
        using ITimer moved = clock.CreateTimer(_ => fired.Add($"moved@{clock.Elapsed.TotalMilliseconds}"), null, TimeSpan.FromMilliseconds(50), Timeout.InfiniteTimeSpan);
        using ITimer periodic = clock.CreateTimer(_ => fired.Add($"tick@{clock.Elapsed.TotalMilliseconds}"), null, TimeSpan.FromMilliseconds(150), TimeSpan.FromMilliseconds(100));
        ITimer disposed = clock.CreateTimer(_ => fired.Add("disposed"), null, TimeSpan.FromMilliseconds(120), Timeout.InfiniteTimeSpan);
        moved.Change(TimeSpan.FromMilliseconds(200), Timeout.InfiniteTimeSpan);
        disposed.Dispose();

        while (clock.NextDueTicks is { } due && due <= TimeSpan.FromMilliseconds(400).Ticks)
        {
            clock.AdvanceTo(due);
        }

        Assert.Equal(["early@100", "tick@150", "moved@200", "tick@250", "late@300", "tick@350"], fired);
        Assert.Equal(TimeSpan.FromMilliseconds(350), clock.Elapsed);
        Assert.Equal(1, clock.ScheduledTimers);
    }

    [Fact]
    public async Task A_delay_on_the_virtual_clock_completes_only_when_the_driver_reaches_it()
    {
        var clock = new VirtualTimeProvider();
        Task delay = Task.Delay(TimeSpan.FromSeconds(5), clock);

        clock.AdvanceTo(TimeSpan.FromSeconds(4).Ticks);
        Assert.False(delay.IsCompleted);
        clock.AdvanceTo(TimeSpan.FromSeconds(5).Ticks);
        await delay.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(VirtualTimeProvider.Start.AddSeconds(5), clock.GetUtcNow());
    }

    /// <summary>Replays one small seeded trace each way, once for the whole class.</summary>
    public sealed class SmallReplay
    {
        public const int Triggers = 2_000;
        public const int Seed = 7;
        public const double FaultRate = 0.05;

        private readonly Lazy<Task<Dictionary<ReplayWay, WayResult>>> _results = new(RunAllAsync);

        public async Task<WayResult> ResultAsync(ReplayWay way) => (await _results.Value)[way];

        // One way at a time: each waits for the thread pool to be idle, so running them together would only slow both.
        // The bound is generous: the replay takes well under a second alone, but shares the pool with other tests here.
        private static async Task<Dictionary<ReplayWay, WayResult>> RunAllAsync()
        {
            ReplayTrace trace = ReplayTrace.Generate(Triggers, Seed);
            var results = new Dictionary<ReplayWay, WayResult>();
            foreach (ReplayWay way in ReplayRunner.ChatWays)
            {
                results[way] = await ReplayRunner.StartAsync(trace, way, Seed, FaultRate).WaitAsync(TimeSpan.FromMinutes(2));
            }

            return results;
        }
    }
}
