using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Xunit.Abstractions;

namespace LlmGuard.Tests.Telemetry;

[Collection(nameof(TelemetryCollection))]
public sealed class CallCountingStressTests(ITestOutputHelper output)
{
    private const int Rounds = 200;
    private const int MaxCallersPerRound = 8;

    [Fact]
    public async Task Under_racing_joins_leaves_and_answers_every_caller_is_counted_once_and_every_execution_has_one_executed_caller()
    {
        int seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        using var observed = new Observed(logs: false);
        using MetricCollector<long> calls = observed.Collect<long>("llmguard.calls");
        using MetricCollector<long> executions = observed.Collect<long>("llmguard.executions");

        int callers = 0;
        for (int round = 0; round < Rounds; round++)
        {
            string question = "q" + round;
            int count = random.Next(1, MaxCallersPerRound + 1);
            bool[] leaves = Enumerable.Range(0, count).Select(_ => random.Next(3) == 0).ToArray();
            bool[] yieldsFirst = Enumerable.Range(0, count).Select(_ => random.Next(2) == 0).ToArray();
            callers += count;

            Task[] workers = Enumerable.Range(0, count).Select(i => Task.Run(async () =>
            {
                using var leave = new CancellationTokenSource();
                Task<Reply> answer = observed.Desk.AskQuicklyAsync(question, leave.Token);
                if (leaves[i])
                {
                    // A leave after the call joined, racing with other joins and with the answer.
                    if (yieldsFirst[i])
                    {
                        await Task.Yield();
                    }

                    leave.Cancel();
                }

                try
                {
                    await answer;
                }
                catch (OperationCanceledException)
                {
                }
            })).ToArray();
            await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(10));
        }

        // An execution every caller left ends after its callers have their outcome.
        await Eventually.Until(
            () => executions.GetMeasurementSnapshot().Count == CountOutcome(calls, "executed"),
            "each executed caller's execution is counted");
        Assert.Equal(callers, calls.GetMeasurementSnapshot().Count);
        Assert.Equal(callers, CountOutcome(calls, "executed") + CountOutcome(calls, "joined"));
    }

    [Fact]
    public async Task Under_racing_supersedes_every_merged_caller_is_saved_the_tokens_of_the_execution_that_answered_it()
    {
        int seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        using var observed = new Observed(logs: false);
        using MetricCollector<long> calls = observed.Collect<long>("llmguard.calls");
        using MetricCollector<long> saved = observed.Collect<long>("llmguard.tokens.saved");

        int callers = 0;
        for (int round = 0; round < Rounds / 4; round++)
        {
            string session = "s" + round;
            int count = random.Next(2, MaxCallersPerRound + 1);
            callers += count;

            // Callers arrive on other threads while the clock closes windows under them, so supersedes take over
            // windows whose executions are starting, running or ending.
            // Each worker hands its call's task back in an array, so Task.Run does not wait for the answer itself.
            Task<Reply>[][] calling = await Task.WhenAll(Enumerable.Range(0, count).Select(i => Task.Run(() => new[] { observed.Desk.ReplyLatestQuicklyAsync(session, "m" + i) })));
            Task<Reply>[] answers = calling.SelectMany(call => call).ToArray();
            for (int step = 0; step < 10_000 && !answers.All(a => a.IsCompleted); step++)
            {
                observed.Clock.Advance(TimeSpan.FromMilliseconds(random.Next(1, 150)));
                await Task.Yield();
            }

            await Task.WhenAll(answers).WaitAsync(TimeSpan.FromSeconds(10));
        }

        Assert.Equal(callers, calls.GetMeasurementSnapshot().Count);
        Assert.All(calls.GetMeasurementSnapshot(), m => Assert.Equal("success", m.Tags["llmguard.result"]));

        // Only an execution that ran to its end answers callers, and each such execution filled its report.
        Assert.Equal(35L * CountOutcome(calls, "merged"), saved.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    private static int CountOutcome(MetricCollector<long> calls, string outcome) =>
        calls.GetMeasurementSnapshot().Count(m => (string?)m.Tags["llmguard.outcome"] == outcome);
}
