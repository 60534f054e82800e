using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using LlmGuard.Infrastructure;
using LlmGuard.Tests.Caching;
using LlmGuard.Tests.Telemetry;
using LlmGuard.Tests.Usage;
using LlmGuard.Usage;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using static LlmGuard.Tests.Streaming.StreamReading;

namespace LlmGuard.Tests.Streaming;

/// <summary>
/// A stream's telemetry: per consumer a call (executed, joined or cached) and its time to first item; per upstream an
/// execution with its tokens, reported to the usage ledger so budgets count it.
/// </summary>
[Collection(nameof(TelemetryCollection))]
public sealed class StreamTelemetryTests
{
    private const string Scene = "stream_telemetry";

    [Fact]
    public async Task A_caller_arriving_while_an_ended_stream_is_reported_is_answered_by_a_stream_that_counts_it()
    {
        const string scene = "stream_callers";
        var sink = new CollectingSink();
        var runtime = new GuardRuntime(new Microsoft.Extensions.Time.Testing.FakeTimeProvider()) { UsageSinks = [sink] };
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(scene, 0, 0, 0, 0).For(runtime);
        var first = new ScriptedUpstream();
        var second = new ScriptedUpstream();
        var reporting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = new ManualResetEventSlim();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == LlmGuard.Telemetry.GuardTelemetry.ActivitySource.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,

            // The first execution's activity stops once its report is written: hold it there until the next caller is served.
            ActivityStopped = activity =>
            {
                if (activity.OperationName == "llmguard.execution " + scene && reporting.TrySetResult())
                {
                    Assert.True(arrived.Wait(Bound));
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        first.Yield("a");
        first.Complete();
        Task<List<string>> starter = ReadAllAsync(state.Stream("k", "k", first.RunAsync, null, CancellationToken.None));
        await reporting.Task.WaitAsync(Bound);
        await using IAsyncEnumerator<string> late = state.Stream("k", "k", second.RunAsync, null, CancellationToken.None).GetAsyncEnumerator();
        Task<List<string>> lateFirst = TakeAsync(late, 1);
        second.Yield("b");
        await lateFirst.WaitAsync(Bound);
        arrived.Set();
        second.Complete();

        Assert.Equal(["a"], await starter.WaitAsync(Bound));
        Assert.Empty(await RestAsync(late));
        await runtime.Usage.FlushAsync().WaitAsync(Bound);

        // Each execution counts the callers it answered, so together they count both.
        Assert.Equal(2, sink.Records.Sum(record => record.CallersAnswered));
    }

    [Fact]
    public async Task Two_consumers_of_one_upstream_count_one_executed_call_one_joined_call_one_execution_and_their_first_item_waits()
    {
        using var observed = new Observed(logs: false);
        using MetricCollector<long> calls = observed.Collect<long>("llmguard.calls");
        using MetricCollector<long> executions = observed.Collect<long>("llmguard.executions");
        using MetricCollector<double> firstItems = observed.Collect<double>("llmguard.stream.first_item.duration");
        var upstream = new ScriptedUpstream();
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, 0, 0, 0, 0).For(observed.Runtime);

        await using IAsyncEnumerator<string> starter = state.Stream("k", "k", upstream.RunAsync, null, CancellationToken.None).GetAsyncEnumerator();
        Task<List<string>> starterFirst = TakeAsync(starter, 1);
        await upstream.NextStartAsync();
        observed.Clock.Advance(TimeSpan.FromMilliseconds(100));
        await using IAsyncEnumerator<string> joiner = state.Stream("k", "k", upstream.RunAsync, null, CancellationToken.None).GetAsyncEnumerator();
        Task<List<string>> joinerFirst = TakeAsync(joiner, 1);
        observed.Clock.Advance(TimeSpan.FromMilliseconds(150));
        upstream.Yield("a");
        Assert.Equal(["a"], await starterFirst);
        Assert.Equal(["a"], await joinerFirst);
        upstream.Complete();
        Assert.Empty(await RestAsync(starter));
        Assert.Empty(await RestAsync(joiner));

        Assert.Equal(
            new[] { ($"{Scene}/executed/success", 1L), ($"{Scene}/joined/success", 1L) },
            Observed.Sum(calls, "llmguard.scene", "llmguard.outcome", "llmguard.result").OrderBy(p => p.Key).Select(p => (p.Key, p.Value)));
        Assert.Equal(($"{Scene}/success", 1L), Observed.Sum(executions, "llmguard.scene", "llmguard.result").Select(p => (p.Key, p.Value)).Single());
        Assert.Equal(
            new[] { ("executed", 0.25), ("joined", 0.15) },
            firstItems.GetMeasurementSnapshot().Select(m => ((string)m.Tags["llmguard.outcome"]!, Math.Round(m.Value, 3))).OrderBy(p => p.Item1));
        Assert.All(firstItems.GetMeasurementSnapshot(), m => Assert.Equal(Scene, m.Tags["llmguard.scene"]));
    }

    [Fact]
    public async Task The_usage_of_ChatResponseUpdate_items_is_recorded_once_and_counted_as_saved_for_the_joined_consumer()
    {
        using var observed = new Observed(logs: false);
        using MetricCollector<long> tokens = observed.Collect<long>("gen_ai.client.token.usage");
        using MetricCollector<long> saved = observed.Collect<long>("llmguard.tokens.saved");
        var updates = new UpdateUpstream();
        GuardedStreamMethodState<ChatResponseUpdate> state = new GuardedStreamMethod<ChatResponseUpdate>(Scene, 0, 0, 0, 0).For(observed.Runtime);

        await using IAsyncEnumerator<ChatResponseUpdate> starter = state.Stream("k", 0, updates.RunAsync, null, CancellationToken.None).GetAsyncEnumerator();
        await using IAsyncEnumerator<ChatResponseUpdate> joiner = state.Stream("k", 0, updates.RunAsync, null, CancellationToken.None).GetAsyncEnumerator();
        Task<List<ChatResponseUpdate>> starterItems = RestAsync(starter);
        Task<List<ChatResponseUpdate>> joinerItems = RestAsync(joiner);
        updates.Write(new ChatResponseUpdate(ChatRole.Assistant, "hello"));
        updates.Write(new ChatResponseUpdate { ModelId = "model-1", Contents = [new UsageContent(new UsageDetails { InputTokenCount = 10, OutputTokenCount = 5 })] });
        updates.Complete();
        Assert.Equal(2, (await starterItems).Count);
        Assert.Equal(2, (await joinerItems).Count);

        Assert.Equal(
            new[] { ("input/model-1", 10L), ("output/model-1", 5L) },
            Observed.Sum(tokens, "gen_ai.token.type", "gen_ai.request.model").OrderBy(p => p.Key).Select(p => (p.Key, p.Value)));
        Assert.Equal(("joined", 15L), Observed.Sum(saved, "llmguard.outcome").Select(p => (p.Key, p.Value)).Single());
    }

    [Fact]
    public async Task A_consumer_answered_from_a_cached_stream_counts_as_cached_and_saves_the_stored_tokens()
    {
        using var host = new CacheTestHost();
        using var calls = new MetricCollector<long>(host.Meters, "LlmGuard", "llmguard.calls");
        using var saved = new MetricCollector<long>(host.Meters, "LlmGuard", "llmguard.tokens.saved");
        using var firstItems = new MetricCollector<double>(host.Meters, "LlmGuard", "llmguard.stream.first_item.duration");
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, 0, 0, 0, 0, cacheSeconds: 60, cacheVersion: "v1").For(host.Runtime);

        Assert.Equal(["answer"], await ReadAllAsync(state.Stream("k", 0, Reporting, null, CancellationToken.None)).WaitAsync(Bound));
        Assert.Equal(["answer"], await ReadAllAsync(state.Stream("k", 0, Reporting, null, CancellationToken.None)).WaitAsync(Bound));

        Assert.Equal(
            new[] { ("cached/success", 1L), ("executed/success", 1L) },
            Observed.Sum(calls, "llmguard.outcome", "llmguard.result").OrderBy(p => p.Key).Select(p => (p.Key, p.Value)));
        Assert.Equal(("cached", 10L), Observed.Sum(saved, "llmguard.outcome").Select(p => (p.Key, p.Value)).Single());
        Assert.Equal(["cached", "executed"], firstItems.GetMeasurementSnapshot().Select(m => (string)m.Tags["llmguard.outcome"]!).Order());

        // The core reports its own usage: LlmUsage.Current is the upstream's report while it runs.
        static async IAsyncEnumerable<string> Reporting(int arguments, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            LlmUsage.Report(7, 3, "model-2");
            yield return "answer";
        }
    }

    [Fact]
    public async Task An_upstream_is_reported_to_the_usage_ledger_and_a_spent_budget_refuses_the_next_one_before_its_core()
    {
        using var kit = new UsageTestKit(options => options.Budgets["streams"] = new LlmTokenBudget { Per = LlmBudgetScope.Scene, Scene = Scene, Tokens = 10, Period = TimeSpan.FromHours(1) });
        GuardedStreamMethodState<ChatResponseUpdate> state = new GuardedStreamMethod<ChatResponseUpdate>(Scene, 0, 0, 0, 0).For(kit.Runtime);
        var spending = new UpdateUpstream();
        Task<List<ChatResponseUpdate>> first = ReadAllAsync(state.Stream("k", 0, spending.RunAsync, null, CancellationToken.None));
        spending.Write(new ChatResponseUpdate { ModelId = "model-1", Contents = [new UsageContent(new UsageDetails { InputTokenCount = 8, OutputTokenCount = 4 })] });
        spending.Complete();
        Assert.Single(await first.WaitAsync(Bound));

        LlmUsageRecord record = Assert.Single(await kit.RecordsAsync());
        Assert.Equal((Scene, "model-1", 8L, 4L, "success", 1), (record.Scene, record.Model, record.InputTokens, record.OutputTokens, record.Result, record.CallersAnswered));

        var refused = new UpdateUpstream();
        LlmBudgetExceededException exceeded = await Assert.ThrowsAsync<LlmBudgetExceededException>(
            () => ReadAllAsync(state.Stream("other", 0, refused.RunAsync, null, CancellationToken.None)).WaitAsync(Bound));
        Assert.Equal("streams", exceeded.Budget);
        Assert.Equal(0, refused.Starts);
    }

    [Fact]
    public async Task The_usage_record_of_an_upstream_carries_the_call_context_of_the_consumer_that_started_it_and_counts_every_consumer()
    {
        using var kit = new UsageTestKit();
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, 0, 0, 0, 0).For(kit.Runtime);
        var upstream = new ScriptedUpstream();
        IAsyncEnumerator<string> starter;
        using (LlmCallContext.Begin(tenant: "t1", user: "u1"))
        {
            starter = state.Stream("k", "k", upstream.RunAsync, null, CancellationToken.None).GetAsyncEnumerator();
            Task<List<string>> first = TakeAsync(starter, 1);
            upstream.Yield("a");
            Assert.Equal(["a"], await first);
        }

        List<string> joined;
        using (LlmCallContext.Begin(tenant: "t2", user: "u2"))
        {
            Task<List<string>> joiner = ReadAllAsync(state.Stream("k", "k", upstream.RunAsync, null, CancellationToken.None));
            upstream.Complete();
            joined = await joiner.WaitAsync(Bound);
        }

        Assert.Equal(["a"], joined);
        Assert.Empty(await RestAsync(starter));
        await starter.DisposeAsync();

        LlmUsageRecord record = Assert.Single(await kit.RecordsAsync());
        Assert.Equal(("t1", "u1", 2), (record.Tenant, record.User, record.CallersAnswered));
    }

    [Theory]
    [InlineData(1, "success:1 transient:1")]
    [InlineData(0, "transient:1")]
    public async Task Attempts_before_the_first_item_are_counted_with_and_without_retries(int maxRetries, string expected)
    {
        using var observed = new Observed(logs: false);
        using MetricCollector<long> attempts = observed.Collect<long>("llmguard.attempts");
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, 0, 0, maxRetries, 0).For(observed.Runtime);
        int starts = 0;

        try
        {
            await ReadAllAsync(state.Stream("k", 0, FailsOnce, null, CancellationToken.None)).WaitAsync(Bound);
        }
        catch (HttpRequestException) when (maxRetries == 0)
        {
        }

        Assert.Equal(
            expected,
            string.Join(" ", Observed.Sum(attempts, "llmguard.attempt.result").OrderBy(p => p.Key).Select(p => $"{p.Key}:{p.Value}")));

        async IAsyncEnumerable<string> FailsOnce(int arguments, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            if (Interlocked.Increment(ref starts) == 1)
            {
                throw new HttpRequestException("unavailable", null, HttpStatusCode.ServiceUnavailable);
            }

            yield return "answer";
        }
    }

    [Fact]
    public async Task An_upstream_is_traced_under_its_starter_with_a_child_per_attempt_and_a_joined_consumer_links_to_it()
    {
        using var observed = new Observed(logs: false);
        using var trace = new TraceRecorder();
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, 0, 0, 1, 0).For(observed.Runtime);
        var upstream = new ScriptedUpstream();
        upstream.Fail(new HttpRequestException("unavailable", null, HttpStatusCode.ServiceUnavailable));

        await using IAsyncEnumerator<string> starter = state.Stream("k", "k", upstream.RunAsync, null, CancellationToken.None).GetAsyncEnumerator();
        await using IAsyncEnumerator<string> joiner = state.Stream("k", "k", upstream.RunAsync, null, CancellationToken.None).GetAsyncEnumerator();
        Task<List<string>> starterItems = RestAsync(starter);
        Task<List<string>> joinerItems = RestAsync(joiner);
        upstream.Yield("a");
        upstream.Complete();
        Assert.Equal(["a"], await starterItems);
        Assert.Equal(["a"], await joinerItems);

        Activity execution = Assert.Single(trace.Stopped, a => a.OperationName == "llmguard.execution " + Scene);
        Assert.Equal(trace.Root.SpanId, execution.ParentSpanId);
        Assert.Equal("success", execution.GetTagItem("llmguard.result"));
        Activity[] attempts = trace.Stopped.Where(a => a.OperationName == "llmguard.attempt").OrderBy(a => a.GetTagItem("llmguard.attempt.number")).ToArray();
        Assert.Equal(2, attempts.Length);
        Assert.All(attempts, a => Assert.Equal(execution.SpanId, a.ParentSpanId));
        Assert.Equal((ActivityStatusCode.Error, ActivityStatusCode.Unset), (attempts[0].Status, attempts[1].Status));

        Activity joined = Assert.Single(trace.Stopped, a => a.OperationName == "llmguard.call " + Scene);
        Assert.Equal("joined", joined.GetTagItem("llmguard.outcome"));
        Assert.Equal(execution.Context, Assert.Single(joined.Links).Context);
    }

    [Fact]
    public async Task A_refused_upstream_counts_rejected_and_a_consumer_that_leaves_early_counts_cancelled()
    {
        using var observed = new Observed(logs: false);
        using MetricCollector<long> calls = observed.Collect<long>("llmguard.calls");
        using MetricCollector<long> executions = observed.Collect<long>("llmguard.executions");
        using MetricCollector<long> rejections = observed.Collect<long>("llmguard.rejections");
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, 0, 0, 0, 0, maxConcurrency: 1).For(observed.Runtime);
        var upstream = new ScriptedUpstream();

        IAsyncEnumerator<string> leaving = state.Stream("a", "a", upstream.RunAsync, null, CancellationToken.None).GetAsyncEnumerator();
        Task<List<string>> first = TakeAsync(leaving, 1);
        upstream.Yield("a1");
        Assert.Equal(["a1"], await first);
        await Assert.ThrowsAsync<LlmGuard.Protection.LlmLimitExceededException>(
            () => ReadAllAsync(state.Stream("b", "b", upstream.RunAsync, null, CancellationToken.None)).WaitAsync(Bound));
        await leaving.DisposeAsync();
        await upstream.Cancelled.WaitAsync(Bound);

        Assert.True(SpinWait.SpinUntil(() => executions.GetMeasurementSnapshot().Count == 2, Bound));
        Assert.Equal(
            new[] { "executed/cancelled:1", "executed/rejected:1" },
            Observed.Sum(calls, "llmguard.outcome", "llmguard.result").OrderBy(p => p.Key).Select(p => $"{p.Key}:{p.Value}"));
        Assert.Equal(
            new[] { "cancelled:1", "rejected:1" },
            Observed.Sum(executions, "llmguard.result").OrderBy(p => p.Key).Select(p => $"{p.Key}:{p.Value}"));
        Assert.Equal("limit:1", string.Join(" ", Observed.Sum(rejections, "llmguard.rejection.reason").Select(p => $"{p.Key}:{p.Value}")));
    }

    [Fact]
    public async Task A_first_item_deadline_counts_as_a_timed_out_attempt()
    {
        var clock = new LlmGuard.Tests.Fakes.TimerAwareFakeTimeProvider();
        using var meters = new TestMeterFactory();
        using var attempts = new MetricCollector<long>(meters, "LlmGuard", "llmguard.attempts");
        var runtime = new GuardRuntime(clock) { MeterFactory = meters };
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>(Scene, firstItemTimeoutMs: 1_000, 0, maxRetries: 1, 0).For(runtime);
        var upstream = new ScriptedUpstream();
        Task<List<string>> consumer = ReadAllAsync(state.Stream("k", "k", upstream.RunAsync, null, CancellationToken.None));
        await upstream.NextStartAsync();
        await clock.WhenTimersScheduledAsync().WaitAsync(Bound);

        clock.Advance(TimeSpan.FromSeconds(1));
        await upstream.NextStartAsync();
        upstream.Yield("a");
        upstream.Complete();

        Assert.Equal(["a"], await consumer.WaitAsync(Bound));
        Assert.Equal(
            "success:1 timeout:1",
            string.Join(" ", Observed.Sum(attempts, "llmguard.attempt.result").OrderBy(p => p.Key).Select(p => $"{p.Key}:{p.Value}")));
    }

    /// <summary>An upstream of chat updates the test writes by hand.</summary>
    private sealed class UpdateUpstream
    {
        private readonly Channel<ChatResponseUpdate> _updates = Channel.CreateUnbounded<ChatResponseUpdate>();
        private int _starts;

        public int Starts => Volatile.Read(ref _starts);

        public void Write(ChatResponseUpdate update) => _updates.Writer.TryWrite(update);

        public void Complete() => _updates.Writer.TryComplete();

        public async IAsyncEnumerable<ChatResponseUpdate> RunAsync(int arguments, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _starts);
            await foreach (ChatResponseUpdate update in _updates.Reader.ReadAllAsync(cancellationToken))
            {
                yield return update;
            }
        }
    }
}
