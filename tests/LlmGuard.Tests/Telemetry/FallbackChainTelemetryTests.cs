using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace LlmGuard.Tests.Telemetry;

/// <summary>What each level of a fallback chain reports, and how a dashboard tells which level answered.</summary>
[Collection(nameof(TelemetryCollection))]
public sealed class FallbackChainTelemetryTests
{
    [Fact]
    public async Task Llmguard_fallbacks_counts_which_level_answered_by_scene()
    {
        using var observed = new Observed();
        var small = new ScriptedModel();
        var assistant = new TieredAssistant(observed.Runtime, observed.Model, small);
        using MetricCollector<long> fallbacks = observed.Collect<long>("llmguard.fallbacks");
        using MetricCollector<long> executions = observed.Collect<long>("llmguard.executions");
        using MetricCollector<long> calls = observed.Collect<long>("llmguard.calls");

        // The smaller model answers the first question; the static reply the second.
        Task<Reply> answered = assistant.AskAsync("q1");
        (await observed.Model.NextCallAsync()).Fail(new IOException("reset"));
        (await small.NextCallAsync()).Succeed("small");
        await answered.Within();
        Task<Reply> busy = assistant.AskAsync("q2");
        (await observed.Model.NextCallAsync()).Fail(new IOException("reset"));
        (await small.NextCallAsync()).Fail(new IOException("reset"));
        await busy.Within();

        Assert.Equal(
            new[] { ("tier_large/tier_small", 2L), ("tier_small/method", 1L) },
            Observed.Sum(fallbacks, "llmguard.scene", "llmguard.fallback").OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value)));

        // Each level is an execution of its own scene; the smaller level counts the primary's fallback as its caller.
        Assert.Equal(
            new[] { ("tier_large/fallback", 2L), ("tier_small/fallback", 1L), ("tier_small/success", 1L) },
            Observed.Sum(executions, "llmguard.scene", "llmguard.result").OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value)));
        Assert.Equal(
            new[] { ("tier_large/executed/fallback", 2L), ("tier_small/executed/fallback", 1L), ("tier_small/executed/success", 1L) },
            Observed.Sum(calls, "llmguard.scene", "llmguard.outcome", "llmguard.result").OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value)));
    }

    [Fact]
    public async Task A_plain_fallback_method_that_answers_counts_as_the_level_method()
    {
        using var observed = new Observed();
        using MetricCollector<long> fallbacks = observed.Collect<long>("llmguard.fallbacks");

        Task<Reply> answer = observed.Desk.AskOrApologizeAsync("refund?");
        (await observed.Model.NextCallAsync()).Fail(new InvalidOperationException("401: invalid API key"));
        await answer.Within();

        Assert.Equal(("desk_fallback/method", 1L), Observed.Sum(fallbacks, "llmguard.scene", "llmguard.fallback").Select(p => (p.Key, p.Value)).Single());
    }

    [Fact]
    public async Task The_smaller_levels_execution_activity_is_a_child_of_the_primarys()
    {
        using var observed = new Observed();
        using var trace = new TraceRecorder();
        var small = new ScriptedModel();
        var assistant = new TieredAssistant(observed.Runtime, observed.Model, small);

        Task<Reply> answer = assistant.AskAsync("q");
        (await observed.Model.NextCallAsync()).Fail(new IOException("reset"));
        (await small.NextCallAsync()).Succeed("small");
        await answer.Within();

        var primary = trace.Stopped.Single(a => a.OperationName == "llmguard.execution tier_large");
        var smaller = trace.Stopped.Single(a => a.OperationName == "llmguard.execution tier_small");
        Assert.Equal(primary.SpanId, smaller.ParentSpanId);
        Assert.Equal("fallback", primary.GetTagItem("llmguard.result"));
        Assert.Equal("success", smaller.GetTagItem("llmguard.result"));
    }
}
