using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded;
using LlmGuard.Usage;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace LlmGuard.Tests.Telemetry;

[Collection(nameof(TelemetryCollection))]
public sealed class CallMetricsTests
{
    [Fact]
    public async Task Ten_callers_of_one_key_count_one_executed_call_nine_joined_calls_and_one_execution()
    {
        using var observed = new Observed();
        using MetricCollector<long> calls = observed.Collect<long>("llmguard.calls");
        using MetricCollector<long> executions = observed.Collect<long>("llmguard.executions");
        using MetricCollector<double> callDurations = observed.Collect<double>("llmguard.call.duration");

        Task<Reply>[] callers = Enumerable.Range(0, 10).Select(_ => observed.Desk.AskAsync("where is my order?")).ToArray();
        ModelCall call = await observed.Model.NextCallAsync();
        observed.Clock.Advance(TimeSpan.FromMilliseconds(250));
        call.Succeed("today");
        await Task.WhenAll(callers);

        Assert.Equal(1, observed.Model.Calls);
        Assert.Equal(
            new[] { ("desk/executed/success", 1L), ("desk/joined/success", 9L) },
            Observed.Sum(calls, "llmguard.scene", "llmguard.outcome", "llmguard.result").OrderBy(p => p.Key).Select(p => (p.Key, p.Value)));
        Assert.Equal(("desk/success", 1L), Observed.Sum(executions, "llmguard.scene", "llmguard.result").Select(p => (p.Key, p.Value)).Single());

        // Every caller waited from its arrival to the answer, on the runtime's clock.
        Assert.Equal(10, callDurations.GetMeasurementSnapshot().Count);
        Assert.All(callDurations.GetMeasurementSnapshot(), m => Assert.Equal(0.25, m.Value, 3));
    }

    [Fact]
    public async Task Callers_of_one_merge_window_count_one_executed_call_and_the_others_merged()
    {
        using var observed = new Observed();
        using MetricCollector<long> calls = observed.Collect<long>("llmguard.calls");

        Task<Reply> first = observed.Desk.ReplyAsync("s1", "hello");
        Task<Reply> second = observed.Desk.ReplyAsync("s1", "are you there?");
        Task<Reply> third = observed.Desk.ReplyAsync("s1", "my order is late");
        observed.Clock.Advance(TimeSpan.FromMilliseconds(1000));
        (await observed.Model.NextCallAsync()).Succeed("on its way");
        await Task.WhenAll(first, second, third);

        Assert.Equal(
            new[] { ("executed", 1L), ("merged", 2L) },
            Observed.Sum(calls, "llmguard.outcome").OrderBy(p => p.Key).Select(p => (p.Key, p.Value)));
    }

    [Fact]
    public async Task A_fallback_answer_counts_as_fallback_for_the_call_and_the_execution()
    {
        using var observed = new Observed();
        using MetricCollector<long> calls = observed.Collect<long>("llmguard.calls");
        using MetricCollector<long> executions = observed.Collect<long>("llmguard.executions");

        Task<Reply> answer = observed.Desk.AskOrApologizeAsync("refund?");
        (await observed.Model.NextCallAsync()).Fail(new InvalidOperationException("401: invalid API key"));

        Assert.Equal("Sorry, a human will answer.", (await answer).Text);
        Assert.Equal("executed/fallback", Observed.Sum(calls, "llmguard.outcome", "llmguard.result").Single().Key);
        Assert.Equal("fallback", Observed.Sum(executions, "llmguard.result").Single().Key);
    }

    [Fact]
    public async Task A_failure_without_fallback_counts_as_error()
    {
        using var observed = new Observed();
        using MetricCollector<long> calls = observed.Collect<long>("llmguard.calls");
        using MetricCollector<long> executions = observed.Collect<long>("llmguard.executions");

        Task<Reply> answer = observed.Desk.AskAsync("refund?");
        (await observed.Model.NextCallAsync()).Fail(new InvalidOperationException("400: bad request"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => answer);
        Assert.Equal("error", Observed.Sum(calls, "llmguard.result").Single().Key);
        Assert.Equal("error", Observed.Sum(executions, "llmguard.result").Single().Key);
    }

    [Fact]
    public async Task A_caller_that_leaves_counts_as_cancelled_and_so_does_the_execution_it_leaves_alone()
    {
        using var observed = new Observed();
        using MetricCollector<long> calls = observed.Collect<long>("llmguard.calls");
        using MetricCollector<long> executions = observed.Collect<long>("llmguard.executions");
        using var leave = new CancellationTokenSource();

        Task<Reply> answer = observed.Desk.AskAsync("refund?", leave.Token);
        ModelCall call = await observed.Model.NextCallAsync();
        leave.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => answer);
        await call.Ended;
        await Eventually.Until(() => executions.GetMeasurementSnapshot().Count == 1, "the abandoned execution is counted");

        Assert.Equal("cancelled", Observed.Sum(calls, "llmguard.result").Single().Key);
        Assert.Equal("cancelled", Observed.Sum(executions, "llmguard.result").Single().Key);
    }

    [Fact]
    public async Task A_budget_refusal_raised_inside_the_core_counts_as_an_error_not_as_rejected()
    {
        using var observed = new Observed();
        using MetricCollector<long> calls = observed.Collect<long>("llmguard.calls");

        Task<Reply> answer = observed.Desk.AskAsync("refund?");
        (await observed.Model.NextCallAsync()).Fail(new LlmBudgetExceededException("desk", "tenant-daily", "The tenant's daily tokens are spent."));

        // Another guarded method the core called was refused; this execution was not (BudgetTests covers its own budget).
        await Assert.ThrowsAsync<LlmBudgetExceededException>(() => answer);
        Assert.Equal("error", Observed.Sum(calls, "llmguard.result").Single().Key);
    }

    [Fact]
    public async Task A_budget_refusal_raised_inside_the_core_answered_by_the_fallback_counts_as_fallback()
    {
        using var observed = new Observed();
        using MetricCollector<long> calls = observed.Collect<long>("llmguard.calls");
        using MetricCollector<long> executions = observed.Collect<long>("llmguard.executions");

        Task<Reply> answer = observed.Desk.AskOrApologizeAsync("refund?");
        (await observed.Model.NextCallAsync()).Fail(new LlmBudgetExceededException("desk", "tenant-daily", "The tenant's daily tokens are spent."));

        Assert.Equal("Sorry, a human will answer.", (await answer).Text);
        Assert.Equal("fallback", Observed.Sum(calls, "llmguard.result").Single().Key);
        Assert.Equal("fallback", Observed.Sum(executions, "llmguard.result").Single().Key);
    }

    [Fact]
    public async Task An_unshared_call_counts_as_executed()
    {
        using var observed = new Observed();
        using MetricCollector<long> calls = observed.Collect<long>("llmguard.calls");

        Task<Reply> answer = observed.Desk.AskAloneAsync("refund?");
        (await observed.Model.NextCallAsync()).Succeed("yes");
        await answer;

        Assert.Equal("desk_alone/executed/success", Observed.Sum(calls, "llmguard.scene", "llmguard.outcome", "llmguard.result").Single().Key);
    }

    [Fact]
    public async Task Attempts_count_transient_failures_timeouts_and_successes()
    {
        using var observed = new Observed();
        using MetricCollector<long> attempts = observed.Collect<long>("llmguard.attempts");

        Task<Reply> transient = observed.Desk.AskAsync("first");
        (await observed.Model.NextCallAsync()).Fail(new HttpRequestException("busy", null, HttpStatusCode.ServiceUnavailable));
        (await observed.Model.NextCallAsync()).Succeed("fine");
        await transient;

        Task<Reply> timedOut = observed.Desk.AskAsync("second");
        await observed.Model.NextCallAsync();
        observed.Clock.Advance(TimeSpan.FromMilliseconds(1000));
        (await observed.Model.NextCallAsync()).Fail(new InvalidOperationException("400: bad request"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => timedOut);

        Assert.Equal(
            new[] { ("failure", 1L), ("success", 1L), ("timeout", 1L), ("transient", 1L) },
            Observed.Sum(attempts, "llmguard.attempt.result").OrderBy(p => p.Key).Select(p => (p.Key, p.Value)));
    }

    [Fact]
    public async Task Tokens_are_recorded_once_per_execution_and_saved_for_each_joined_caller()
    {
        using var observed = new Observed();
        using MetricCollector<long> usage = observed.Collect<long>("gen_ai.client.token.usage");
        using MetricCollector<long> saved = observed.Collect<long>("llmguard.tokens.saved");

        Task<Reply>[] callers = Enumerable.Range(0, 4).Select(_ => observed.Desk.AskCountedAsync("summarise")).ToArray();
        (await observed.Model.NextCallAsync()).Succeed("summary");
        await Task.WhenAll(callers);

        Assert.Equal(
            new[] { ("input/model-a/desk_tokens", 100L), ("output/model-a/desk_tokens", 20L) },
            Observed.Sum(usage, "gen_ai.token.type", "gen_ai.request.model", "llmguard.scene").OrderBy(p => p.Key).Select(p => (p.Key, p.Value)));
        Assert.Equal(("joined", 3 * 120L), Observed.Sum(saved, "llmguard.outcome").Select(p => (p.Key, p.Value)).Single());
    }

    [Fact]
    public async Task The_tenant_tags_calls_only_when_the_options_opt_in()
    {
        using var optedIn = new Observed(options: new LlmGuardOptions { IncludeTenantInMetrics = true });
        using var optedOut = new Observed();
        using MetricCollector<long> withTenant = optedIn.Collect<long>("llmguard.calls");
        using MetricCollector<long> withoutTenant = optedOut.Collect<long>("llmguard.calls");

        using (LlmCallContext.Begin(tenant: "acme", user: "u7"))
        {
            Task<Reply> a = optedIn.Desk.AskAsync("q");
            Task<Reply> b = optedOut.Desk.AskAsync("q");
            (await optedIn.Model.NextCallAsync()).Succeed("a");
            (await optedOut.Model.NextCallAsync()).Succeed("b");
            await Task.WhenAll(a, b);
        }

        Assert.Equal("acme", withTenant.LastMeasurement!.Tags["llmguard.tenant"]);
        Assert.False(withoutTenant.LastMeasurement!.Tags.ContainsKey("llmguard.tenant"));

        // User ids never become tags, opted in or not.
        Assert.DoesNotContain(withTenant.LastMeasurement.Tags.Values, value => Equals(value, "u7"));
    }
}
