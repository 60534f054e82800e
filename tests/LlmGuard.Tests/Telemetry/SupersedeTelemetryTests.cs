using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace LlmGuard.Tests.Telemetry;

/// <summary>A supersede moves callers to a newer window: they are reported with the execution that answered them.</summary>
[Collection(nameof(TelemetryCollection))]
public sealed class SupersedeTelemetryTests
{
    [Fact]
    public async Task Callers_taken_over_by_a_newer_window_are_merged_into_its_execution_and_saved_its_tokens()
    {
        using var observed = new Observed();
        using var trace = new TraceRecorder();
        using MetricCollector<long> calls = observed.Collect<long>("llmguard.calls");
        using MetricCollector<long> executions = observed.Collect<long>("llmguard.executions");
        using MetricCollector<long> saved = observed.Collect<long>("llmguard.tokens.saved");

        Task<Reply> early = observed.Desk.ReplyLatestAsync("s1", "my order");
        observed.Clock.Advance(TimeSpan.FromMilliseconds(1000));
        ModelCall superseded = await observed.Model.NextCallAsync();

        // A newer message while the first execution runs: it cancels that execution and answers both callers.
        Task<Reply> late = observed.Desk.ReplyLatestAsync("s1", "my order, number 42");
        await superseded.Ended;
        observed.Clock.Advance(TimeSpan.FromMilliseconds(1000));
        ModelCall answering = await observed.Model.NextCallAsync();
        Assert.Equal("my order, number 42", answering.Prompt);
        answering.Succeed("order 42 ships today");
        await Task.WhenAll(early, late);
        await Eventually.Until(() => executions.GetMeasurementSnapshot().Count == 2, "both executions are counted");

        Assert.Equal(
            new[] { ("cancelled", 1L), ("success", 1L) },
            Observed.Sum(executions, "llmguard.result").OrderBy(p => p.Key).Select(p => (p.Key, p.Value)));
        Assert.Equal(
            new[] { ("executed/success", 1L), ("merged/success", 1L) },
            Observed.Sum(calls, "llmguard.outcome", "llmguard.result").OrderBy(p => p.Key).Select(p => (p.Key, p.Value)));
        Assert.Equal(("merged", 35L), Observed.Sum(saved, "llmguard.outcome").Select(p => (p.Key, p.Value)).Single());

        Activity answered = trace.Stopped.Single(a => a.OperationName == "llmguard.execution desk_latest" && (string?)a.GetTagItem("llmguard.result") == "success");
        Activity caller = Assert.Single(trace.Stopped, a => a.OperationName == "llmguard.call desk_latest");
        Assert.Equal(answered.Context, Assert.Single(caller.Links).Context);
    }
}
