using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Replay;
using LlmGuard.Replay.Traffic;

namespace LlmGuard.Tests;

/// <summary>
/// The replay's FAQ traffic on a small seeded trace: no caller gets a stale answer, another tenant's answer or another
/// user's personal answer, every caller gets an outcome, and the cache saves executions.
/// </summary>
public sealed class FaqReplayTests(FaqReplayTests.SmallFaqReplay replay) : IClassFixture<FaqReplayTests.SmallFaqReplay>
{
    [Theory]
    [InlineData(ReplayWay.SingleFlight)]
    [InlineData(ReplayWay.SingleFlightAndCache)]
    public async Task A_guarded_way_never_answers_with_older_content_or_for_another_tenant_or_user(ReplayWay way)
    {
        WayResult result = await replay.ResultAsync(way);

        Assert.Equal(0, result.StaleResults);
        Assert.Equal(0, result.CrossTenant);
        Assert.Equal(0, result.CrossUser);
    }

    [Theory]
    [InlineData(ReplayWay.Unguarded)]
    [InlineData(ReplayWay.SingleFlight)]
    [InlineData(ReplayWay.SingleFlightAndCache)]
    public async Task Every_caller_of_a_way_gets_an_outcome(ReplayWay way)
    {
        WayResult result = await replay.ResultAsync(way);

        Assert.Equal(SmallFaqReplay.Triggers, result.Triggers);
        Assert.Equal(0, result.UnfinishedCallers);
    }

    [Fact]
    public async Task The_cache_answers_repeated_questions_so_the_cached_way_executes_less_than_singleflight()
    {
        WayResult singleFlight = await replay.ResultAsync(ReplayWay.SingleFlight);
        WayResult cached = await replay.ResultAsync(ReplayWay.SingleFlightAndCache);

        Assert.True(cached.CacheHits > 0, "popular FAQ questions should be answered from the cache");
        Assert.True(cached.Executions < singleFlight.Executions, $"singleflight + cache {cached.Executions} vs singleflight {singleFlight.Executions}");
        Assert.Equal(cached.Executions, cached.FaqExecutions.FirstOfAnswer + cached.FaqExecutions.AfterExpiry + cached.FaqExecutions.AfterUnstored);
    }

    [Fact]
    public void The_check_flags_another_users_personal_answer_but_shares_an_faq_answer_inside_the_tenant()
    {
        var personal = new FaqTrigger(0, Session: 1, Tenant: 2, User: 30, Personal: true, Question: 4, ContentVersion: 5, TriggerKind.Message);
        var faq = personal with { Personal = false };
        string tenant = FaqRunner.TenantName(2);

        Assert.Equal(AnswerCheck.None, FaqRunner.Check(personal, new FaqAnswer(tenant, FaqRunner.UserName(30), true, 4, 5, false)));
        Assert.Equal(AnswerCheck.CrossUser, FaqRunner.Check(personal, new FaqAnswer(tenant, FaqRunner.UserName(31), true, 4, 5, false)));
        Assert.Equal(AnswerCheck.None, FaqRunner.Check(faq, new FaqAnswer(tenant, null, false, 4, 5, false)));
        Assert.Equal(AnswerCheck.CrossTenant, FaqRunner.Check(faq, new FaqAnswer(FaqRunner.TenantName(3), null, false, 4, 5, false)));
        Assert.Equal(AnswerCheck.Stale, FaqRunner.Check(faq, new FaqAnswer(tenant, null, false, 4, 4, false)));
    }

    [Fact]
    public void The_same_seed_gives_the_same_trace_and_content_versions_only_grow_per_tenant()
    {
        FaqTrace trace = FaqTrace.Generate(3_000, seed: 11);

        Assert.Equal(trace.Triggers, FaqTrace.Generate(3_000, seed: 11).Triggers);
        Assert.NotEqual(trace.Triggers, FaqTrace.Generate(3_000, seed: 12).Triggers);
        foreach (IGrouping<int, FaqTrigger> tenant in trace.Triggers.GroupBy(trigger => trigger.Tenant))
        {
            int[] versions = tenant.Select(trigger => trigger.ContentVersion).ToArray();
            Assert.Equal(versions.Order(), versions);
        }

        Assert.True(trace.ContentUpdates > 0, "an hour and more of traffic should see content updates");
        Assert.Contains(trace.Triggers, trigger => trigger.Personal);
        Assert.Contains(trace.Triggers, trigger => !trigger.Personal);
    }

    /// <summary>Replays one small seeded FAQ trace each way, once for the whole class.</summary>
    public sealed class SmallFaqReplay
    {
        public const int Triggers = 3_000;
        public const int Seed = 7;
        public const double FaultRate = 0.05;

        private readonly Lazy<Task<Dictionary<ReplayWay, WayResult>>> _results = new(RunAllAsync);

        public async Task<WayResult> ResultAsync(ReplayWay way) => (await _results.Value)[way];

        // One way at a time, each on the replay's own driver thread (see ReplayTests.SmallReplay).
        private static Task<Dictionary<ReplayWay, WayResult>> RunAllAsync() => Task.Run(() =>
        {
            FaqTrace trace = FaqTrace.Generate(Triggers, Seed);
            return FaqRunner.Ways.ToDictionary(way => way, way => FaqRunner.Run(trace, way, Seed, FaultRate));
        });
    }
}
