using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using LlmGuard.Usage;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace LlmGuard.Tests.Usage;

/// <summary>Token usage read from results or reported by cores, one usage record per execution, with context and cost.</summary>
public sealed class UsageRecordTests
{
    [Fact]
    public async Task Ten_joined_callers_of_a_ChatResponse_method_record_its_tokens_once()
    {
        using var kit = new UsageTestKit();
        var release = new TaskCompletionSource<ChatResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        int executions = 0;
        var assistant = new ChatAssistant(kit.Runtime, (_, _) =>
        {
            Interlocked.Increment(ref executions);
            return release.Task;
        });

        // Each call has joined the execution when AskAsync returns: joining happens before the first await.
        Task<ChatResponse>[] calls = Enumerable.Range(0, 10).Select(_ => assistant.AskAsync("refund?")).ToArray();
        release.SetResult(UsageTestKit.Response("yes", input: 100, output: 20, model: "gpt-test"));
        await Task.WhenAll(calls).Within();

        LlmUsageRecord record = Assert.Single(await kit.RecordsAsync());
        Assert.Equal(1, executions);
        Assert.Equal("chat", record.Scene);
        Assert.Equal("gpt-test", record.Model);
        Assert.Equal(100, record.InputTokens);
        Assert.Equal(20, record.OutputTokens);
        Assert.Equal("success", record.Result);
        Assert.Equal(10, record.CallersAnswered);
        Assert.Equal(120 * 9, record.TokensSaved);
    }

    [Fact]
    public async Task A_ChatResponse_of_T_method_without_singleflight_records_each_execution_for_one_caller()
    {
        using var kit = new UsageTestKit();
        var assistant = new ChatAssistant(kit.Runtime, (_, _) => Task.FromResult(UsageTestKit.Response("{\"Refund\":true}", input: 70, output: 7, model: "judge")));

        ChatResponse<Verdict>[] verdicts = await Task.WhenAll(assistant.JudgeAsync("refund?"), assistant.JudgeAsync("refund?")).Within();

        Assert.All(verdicts, verdict => Assert.True(verdict.Result.Refund));
        IReadOnlyList<LlmUsageRecord> records = await kit.RecordsAsync();
        Assert.Equal(2, records.Count);
        Assert.All(records, record => Assert.Equal(("chat_unshared", "judge", 70L, 7L, 1, 0L), (record.Scene, record.Model, record.InputTokens, record.OutputTokens, record.CallersAnswered, record.TokensSaved)));
    }

    [Fact]
    public async Task A_core_that_reports_usage_is_counted_once_per_execution_over_every_report()
    {
        using var kit = new UsageTestKit();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var assistant = new ReportingAssistant(kit.Runtime, async (question, _) =>
        {
            LlmUsage.Report(50, 10, "claude-test");
            await release.Task;
            LlmUsage.Report(25, 5);
            return "answer";
        });

        Task<string>[] calls = Enumerable.Range(0, 10).Select(_ => assistant.AskAsync("refund?")).ToArray();
        release.SetResult();
        await Task.WhenAll(calls).Within();

        LlmUsageRecord record = Assert.Single(await kit.RecordsAsync());
        Assert.Equal("reporting", record.Scene);
        Assert.Equal("claude-test", record.Model);
        Assert.Equal(75, record.InputTokens);
        Assert.Equal(15, record.OutputTokens);
        Assert.Equal(10, record.CallersAnswered);
    }

    [Fact]
    public void Reporting_outside_a_guarded_execution_does_nothing()
    {
        LlmUsage.Report(1_000, 1_000, "nowhere");
        Assert.Null(LlmUsage.Current);
    }

    [Fact]
    public async Task Calls_merged_into_one_window_are_answered_by_one_record()
    {
        using var kit = new UsageTestKit();
        var assistant = new ChatAssistant(kit.Runtime, (message, _) => Task.FromResult(UsageTestKit.Response(message, input: 300, output: 30)));

        Task<ChatResponse>[] calls = new[] { "a", "b", "c" }.Select(message => assistant.ReplyAsync("c42", message)).ToArray();
        kit.Clock.Advance(TimeSpan.FromSeconds(1));
        await Task.WhenAll(calls).Within();

        LlmUsageRecord record = Assert.Single(await kit.RecordsAsync());
        Assert.Equal("chat_merged", record.Scene);
        Assert.Equal(3, record.CallersAnswered);
        Assert.Equal(330 * 2, record.TokensSaved);
    }

    [Fact]
    public async Task A_record_carries_the_call_context_of_its_execution()
    {
        using var kit = new UsageTestKit();
        var assistant = new ChatAssistant(kit.Runtime, (_, _) => Task.FromResult(UsageTestKit.Response("ok", input: 10, output: 1)));

        using (LlmCallContext.Begin(tenant: "t1", user: "u7", conversation: "c42", module: "tickets", requestId: "r9"))
        {
            await assistant.AskAsync("status?").Within();
        }

        LlmUsageRecord record = Assert.Single(await kit.RecordsAsync());
        Assert.Equal(("t1", "u7", "c42", "tickets", "r9"), (record.Tenant, record.User, record.Conversation, record.Module, record.RequestId));
        Assert.Equal(1, record.CallersAnswered);
        Assert.Equal(0, record.TokensSaved);
        Assert.Equal(kit.Clock.GetUtcNow(), record.CompletedAt);
    }

    [Fact]
    public async Task A_failed_execution_is_recorded_as_an_error_with_the_tokens_its_core_reported()
    {
        using var kit = new UsageTestKit();
        var assistant = new ReportingAssistant(kit.Runtime, (_, _) =>
        {
            LlmUsage.Report(40, 0, "m");
            throw new InvalidOperationException("content filtered");
        });

        await Assert.ThrowsAsync<InvalidOperationException>(() => assistant.AskAsync("q").Within());

        LlmUsageRecord record = Assert.Single(await kit.RecordsAsync());
        Assert.Equal("error", record.Result);
        Assert.Equal(40, record.InputTokens);
    }

    [Fact]
    public async Task Prices_turn_tokens_into_cost_by_model_ignoring_case()
    {
        using var kit = new UsageTestKit(options => options.Prices["GPT-Test"] = new LlmModelPrice { InputPerMillionTokens = 2.5m, OutputPerMillionTokens = 10m });
        using var costs = new MetricCollector<double>(kit.Meters, "LlmGuard", "llmguard.cost");
        var assistant = new ChatAssistant(kit.Runtime, (question, _) =>
            Task.FromResult(UsageTestKit.Response("ok", input: 1_000, output: 500, model: question == "priced" ? "gpt-test" : "unpriced-model")));

        await assistant.AskAsync("priced").Within();
        await assistant.AskAsync("unpriced").Within();

        IReadOnlyList<LlmUsageRecord> records = await kit.RecordsAsync();
        Assert.Equal(0.0075m, records.Single(r => r.Model == "gpt-test").Cost);
        Assert.Null(records.Single(r => r.Model == "unpriced-model").Cost);

        CollectedMeasurement<double> cost = Assert.Single(costs.GetMeasurementSnapshot());
        Assert.Equal(0.0075, cost.Value, precision: 10);
        Assert.Equal("chat", cost.Tags["llmguard.scene"]);
        Assert.Equal("gpt-test", cost.Tags["gen_ai.request.model"]);
    }

    [Fact]
    public async Task Without_sinks_budgets_or_prices_no_report_is_made()
    {
        var runtime = new GuardRuntime(new Microsoft.Extensions.Time.Testing.FakeTimeProvider());
        bool? reportedTo = null;
        var assistant = new ReportingAssistant(runtime, (_, _) =>
        {
            reportedTo = LlmUsage.Current is not null;
            return Task.FromResult("ok");
        });

        await assistant.AskAsync("q").Within();

        Assert.False(runtime.Usage.IsActive);
        Assert.False(reportedTo);
    }
}
