using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests;

/// <summary>Step 6 of the contract: a caller's token ends only its own wait.</summary>
public sealed class CancellationTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedModel _model = new();
    private readonly GuardRuntime _runtime;

    public CancellationTests()
    {
        _runtime = new GuardRuntime(_time);
    }

    // Every scenario ends with nothing in flight: entries never outlive their execution.
    public void Dispose() => Assert.Equal(0, _runtime.InFlightCount);

    [Fact]
    public async Task A_caller_that_cancels_gets_its_own_cancellation_and_the_execution_goes_on_for_the_others()
    {
        var assistant = new Assistant(_runtime, _model);
        using var leaving = new CancellationTokenSource();
        using var staying = new CancellationTokenSource();
        Task<Reply> cancelled = assistant.AskAsync("s1", "q", leaving.Token);
        Task<Reply> waiting = assistant.AskAsync("s1", "q", staying.Token);
        Task<Reply> uncancellable = assistant.AskAsync("s1", "q");
        ModelCall call = await _model.NextCallAsync();

        leaving.Cancel();
        OperationCanceledException failure = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.Within());
        call.Succeed("answer");

        Assert.Equal(leaving.Token, failure.CancellationToken);
        Assert.False(call.Token.IsCancellationRequested);
        Assert.Same(await waiting.Within(), await uncancellable.Within());
        Assert.Equal(1, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task When_every_caller_cancels_the_execution_is_cancelled_without_retry_or_fallback()
    {
        var assistant = new ApologeticAssistant(_runtime, _model);
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        Task<Reply> a = assistant.AskAsync("s1", first.Token);
        Task<Reply> b = assistant.AskAsync("s1", second.Token);
        ModelCall call = await _model.NextCallAsync();

        first.Cancel();
        second.Cancel();

        Assert.Equal(first.Token, (await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.Within())).CancellationToken);
        Assert.Equal(second.Token, (await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b.Within())).CancellationToken);
        await call.Ended;
        Assert.True(call.Token.IsCancellationRequested);
        Assert.Equal(0, _runtime.InFlightCount);

        // A retry or fallback would follow the cancelled attempt at once (RetryDelayMs = 0); give it the chance.
        await Assert.ThrowsAsync<TimeoutException>(() => _model.NextCallAsync(TimeSpan.FromMilliseconds(200)));
        Assert.Equal(1, _model.Calls);
        Assert.Equal(0, assistant.Fallbacks);
    }

    [Fact]
    public async Task A_late_caller_after_every_earlier_caller_cancelled_gets_a_value_not_a_cancellation()
    {
        var model = new ScriptedModel { IgnoresCancellation = true };
        var assistant = new Assistant(_runtime, model);
        using var early = new CancellationTokenSource();
        Task<Reply> abandoned = assistant.AskAsync("s1", "q", early.Token);
        ModelCall dying = await model.NextCallAsync();
        early.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned.Within());

        Task<Reply> late = assistant.AskAsync("s1", "q");
        ModelCall fresh = await model.NextCallAsync();
        dying.Succeed("stale");
        fresh.Succeed("fresh");

        Assert.Equal("fresh", (await late.Within()).Text);
        Assert.True(dying.Token.IsCancellationRequested);
        Assert.False(fresh.Token.IsCancellationRequested);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task An_abandoned_execution_that_finishes_late_never_removes_the_newer_flight_for_its_key()
    {
        var model = new ScriptedModel { IgnoresCancellation = true };
        var assistant = new Assistant(_runtime, model);
        using var early = new CancellationTokenSource();
        Task<Reply> abandoned = assistant.AskAsync("s1", "q", early.Token);
        ModelCall old = await model.NextCallAsync();
        early.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned.Within());

        Task<Reply> second = assistant.AskAsync("s1", "q");
        ModelCall newer = await model.NextCallAsync();
        old.Succeed("old");
        await old.Ended;

        Task<Reply> third = assistant.AskAsync("s1", "q");
        newer.Succeed("new");

        Assert.Same(await second.Within(), await third.Within());
        Assert.Equal("new", (await third.Within()).Text);
        Assert.Equal(2, model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task A_caller_whose_token_is_already_cancelled_is_cancelled_without_starting_an_execution()
    {
        var assistant = new Assistant(_runtime, _model);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        OperationCanceledException failure = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => assistant.AskAsync("s1", "q", cancelled.Token).Within());

        Assert.Equal(cancelled.Token, failure.CancellationToken);
        Assert.Equal(0, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task A_caller_whose_token_is_already_cancelled_never_runs_the_core_with_SingleFlight_off()
    {
        var assistant = new Assistant(_runtime, _model);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        Task<Reply> call = assistant.AskAloneAsync("s1", cancelled.Token);

        Assert.True(call.IsCanceled);
        OperationCanceledException failure = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(cancelled.Token, failure.CancellationToken);
        Assert.Equal(0, _model.Calls);
    }
}
