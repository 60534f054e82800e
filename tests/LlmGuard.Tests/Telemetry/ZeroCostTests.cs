using System.Threading.Tasks;
using LlmGuard.Tests.Guarded;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace LlmGuard.Tests.Telemetry;

/// <summary>
/// When nothing listens, a guarded call takes the path it takes without telemetry: callers of one key receive the
/// singleflight's own task (an observed caller gets a task of its own) and the execution builds no report.
/// </summary>
[Collection(nameof(TelemetryCollection))]
public sealed class ZeroCostTests
{
    [Fact]
    public async Task With_a_meter_and_a_logger_nobody_listens_to_callers_get_the_singleflight_task_and_no_report_is_made()
    {
        using var observed = new Observed(logs: false);

        Task<Reply> first = observed.Desk.AskAsync("refund?");
        Task<Reply> second = observed.Desk.AskAsync("refund?");
        (await observed.Model.NextCallAsync()).Succeed("yes");
        await first;

        Assert.Same(first, second);
        Assert.Null(observed.Desk.LastReport);
    }

    [Fact]
    public async Task A_listener_on_the_calls_counter_gives_each_caller_its_own_observed_task()
    {
        using var observed = new Observed(logs: false);
        using MetricCollector<long> calls = observed.Collect<long>("llmguard.calls");

        Task<Reply> first = observed.Desk.AskAsync("refund?");
        Task<Reply> second = observed.Desk.AskAsync("refund?");
        (await observed.Model.NextCallAsync()).Succeed("yes");
        await Task.WhenAll(first, second);

        Assert.NotSame(first, second);
        Assert.NotNull(observed.Desk.LastReport);
        Assert.Equal(2, calls.GetMeasurementSnapshot().Count);
    }

    [Fact]
    public async Task A_listener_attached_to_another_runtime_leaves_this_runtime_unobserved()
    {
        using var observed = new Observed(logs: false);
        using var other = new Observed(logs: false);
        using MetricCollector<long> calls = other.Collect<long>("llmguard.calls");

        Task<Reply> first = observed.Desk.AskAsync("refund?");
        Task<Reply> second = observed.Desk.AskAsync("refund?");
        (await observed.Model.NextCallAsync()).Succeed("yes");
        await first;

        Assert.Same(first, second);
        Assert.Empty(calls.GetMeasurementSnapshot());
    }
}
