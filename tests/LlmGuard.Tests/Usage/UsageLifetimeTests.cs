using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Tests.Fakes;
using LlmGuard.Usage;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Usage;

/// <summary>Budgets follow a reload, and disposing the runtime delivers what is queued before it stops.</summary>
public sealed class UsageLifetimeTests
{
    [Fact]
    public async Task A_reloaded_budget_limits_the_executions_that_start_after_the_reload()
    {
        using var kit = new UsageTestKit(options => options.Budgets["chat"] = new LlmTokenBudget { Per = LlmBudgetScope.Scene, Scene = "chat", Tokens = 1_000_000, Period = TimeSpan.FromHours(1) });
        var assistant = new ChatAssistant(kit.Runtime, (_, _) => Task.FromResult(UsageTestKit.Response("ok", input: 100, output: 20)));
        await assistant.AskAsync("first").Within();

        var reloaded = new LlmGuardOptions();
        reloaded.Budgets["chat"] = new LlmTokenBudget { Per = LlmBudgetScope.Scene, Scene = "chat", Tokens = 100, Period = TimeSpan.FromHours(1) };
        kit.Runtime.Reconfigure(reloaded);

        LlmBudgetExceededException refusal = await Assert.ThrowsAsync<LlmBudgetExceededException>(() => assistant.AskAsync("second").Within());
        Assert.Equal("chat", refusal.Budget);
    }

    [Fact]
    public async Task Disposing_the_runtime_delivers_the_records_still_queued_and_then_refuses_new_ones()
    {
        var sink = new GatedSink();
        using var kit = new UsageTestKit(configure: null, sink);
        var assistant = new ChatAssistant(kit.Runtime, (question, _) => Task.FromResult(UsageTestKit.Response(question, input: 10, output: 1)));
        for (int i = 0; i < 5; i++)
        {
            await assistant.AskAsync("question " + i).Within();
        }

        await sink.Entered.Task.Within();
        Task disposal = kit.Runtime.DisposeAsync().AsTask();
        Assert.False(disposal.IsCompleted);
        sink.Open.TrySetResult();
        await disposal.Within();

        Assert.Equal(5, sink.Records.Count);
        Assert.False(sink.CancelledWhileWriting);
        await assistant.AskAsync("after disposal").Within();
        Assert.Equal(1, kit.Runtime.Usage.DroppedCount);
    }

    [Fact]
    public async Task A_sink_that_never_finishes_is_cancelled_when_the_drain_time_is_over()
    {
        var sink = new GatedSink();
        using var kit = new UsageTestKit(configure: null, sink);
        var assistant = new ChatAssistant(kit.Runtime, (_, _) => Task.FromResult(UsageTestKit.Response("ok", input: 10, output: 1)));
        await assistant.AskAsync("question").Within();
        await sink.Entered.Task.Within();

        Task disposal = kit.Runtime.DisposeAsync().AsTask();
        kit.Clock.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(disposal.IsCompleted);
        kit.Clock.Advance(TimeSpan.FromSeconds(0.1));
        await disposal.Within();

        Assert.True(sink.CancelledWhileWriting);
    }

    [Fact]
    public void A_budget_that_could_never_refuse_or_a_negative_price_fails_validation_with_its_key_and_range()
    {
        var options = new LlmGuardOptions();
        options.Budgets["daily"] = new LlmTokenBudget { Tokens = 0, Period = TimeSpan.Zero };
        options.Prices["model-a"] = new LlmModelPrice { InputPerMillionTokens = -1 };

        ArgumentException failure = Assert.Throws<ArgumentException>(() => new GuardRuntime(new FakeTimeProvider()) { Options = options });

        Assert.Contains("LlmGuard:Budgets:daily:Tokens is 0, out of range; allowed: 1 or more.", failure.Message, StringComparison.Ordinal);
        Assert.Contains("LlmGuard:Budgets:daily:Period is 00:00:00, out of range; allowed: longer than 00:00:00.", failure.Message, StringComparison.Ordinal);
        Assert.Contains("LlmGuard:Prices:model-a: a price per million tokens is negative; allowed: 0 or more.", failure.Message, StringComparison.Ordinal);
    }

    // Holds the first batch until the test opens it; records whether the delivery token was cancelled mid-write.
    private sealed class GatedSink : ILlmUsageSink
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<LlmUsageRecord> Records { get; } = new();

        public bool CancelledWhileWriting { get; private set; }

        public async ValueTask WriteAsync(IReadOnlyList<LlmUsageRecord> records, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            try
            {
                await Open.Task.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                CancelledWhileWriting = true;
                throw;
            }

            foreach (LlmUsageRecord record in records)
            {
                Records.Enqueue(record);
            }
        }
    }
}
