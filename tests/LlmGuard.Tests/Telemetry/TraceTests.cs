using System.Diagnostics;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using LlmGuard.Tests.Guarded;

namespace LlmGuard.Tests.Telemetry;

[Collection(nameof(TelemetryCollection))]
public sealed class TraceTests
{
    [Fact]
    public async Task An_execution_is_traced_under_its_caller_with_a_child_per_attempt()
    {
        using var observed = new Observed();
        using var trace = new TraceRecorder();

        Task<Reply> answer = observed.Desk.AskAsync("refund?");
        (await observed.Model.NextCallAsync()).Fail(new HttpRequestException("busy", null, HttpStatusCode.ServiceUnavailable));
        (await observed.Model.NextCallAsync()).Succeed("yes");
        await answer;

        Activity execution = Assert.Single(trace.Stopped, a => a.OperationName == "llmguard.execution desk");
        Assert.Equal(trace.Root.SpanId, execution.ParentSpanId);
        Assert.Equal("desk", execution.GetTagItem("llmguard.scene"));
        Assert.Equal("success", execution.GetTagItem("llmguard.result"));

        Activity[] attempts = trace.Stopped.Where(a => a.OperationName == "llmguard.attempt").OrderBy(a => a.GetTagItem("llmguard.attempt.number")).ToArray();
        Assert.Equal(2, attempts.Length);
        Assert.All(attempts, a => Assert.Equal(execution.SpanId, a.ParentSpanId));
        Assert.Equal(ActivityStatusCode.Error, attempts[0].Status);
        Assert.Equal(ActivityStatusCode.Unset, attempts[1].Status);
    }

    [Fact]
    public async Task Joined_and_merged_callers_link_to_the_execution_that_answered_them()
    {
        using var observed = new Observed();
        using var trace = new TraceRecorder();

        Task<Reply> first = observed.Desk.AskAsync("refund?");
        Task<Reply> joined = observed.Desk.AskAsync("refund?");
        (await observed.Model.NextCallAsync()).Succeed("yes");
        await Task.WhenAll(first, joined);

        Task<Reply> opener = observed.Desk.ReplyAsync("s1", "hello");
        Task<Reply> merged = observed.Desk.ReplyAsync("s1", "anyone?");
        observed.Clock.Advance(System.TimeSpan.FromMilliseconds(1000));
        (await observed.Model.NextCallAsync()).Succeed("hi");
        await Task.WhenAll(opener, merged);

        AssertLinked(trace, "desk", "joined");
        AssertLinked(trace, "desk_merge", "merged");

        // A caller that started the execution is traced by the execution itself.
        Assert.DoesNotContain(trace.Stopped, a => a.OperationName.StartsWith("llmguard.call", System.StringComparison.Ordinal) && (string?)a.GetTagItem("llmguard.outcome") == "executed");
    }

    private static void AssertLinked(TraceRecorder trace, string scene, string outcome)
    {
        Activity execution = Assert.Single(trace.Stopped, a => a.OperationName == "llmguard.execution " + scene);
        Activity caller = Assert.Single(trace.Stopped, a => a.OperationName == "llmguard.call " + scene);
        Assert.Equal(outcome, caller.GetTagItem("llmguard.outcome"));
        Assert.Equal(trace.Root.SpanId, caller.ParentSpanId);
        Assert.Equal(execution.Context, Assert.Single(caller.Links).Context);
    }
}
