using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;
using LlmGuard.Tests.Guarded;

namespace LlmGuard.Tests;

/// <summary>Step 2 of the contract through generated code: bursts of messages become one model call.</summary>
public sealed class MergeWindowTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedModel _model = new();
    private readonly GuardRuntime _runtime;
    private readonly ChatDesk _desk;

    public MergeWindowTests()
    {
        _runtime = new GuardRuntime(_time);
        _desk = new ChatDesk(_runtime, _model);
    }

    public void Dispose() => Assert.Equal(0, _runtime.InFlightCount);

    [Fact]
    public async Task A_burst_of_messages_costs_one_model_call_with_the_latest_message()
    {
        Task<Reply> first = _desk.ReplyAsync("s1", "I want to complain");
        _time.Advance(TimeSpan.FromMilliseconds(700));
        Task<Reply> second = _desk.ReplyAsync("s1", "about yesterday's order");
        _time.Advance(TimeSpan.FromMilliseconds(700));
        Task<Reply> third = _desk.ReplyAsync("s1", "order no. 123");
        _time.Advance(TimeSpan.FromMilliseconds(600));

        ModelCall call = await _model.NextCallAsync();
        call.Succeed("Looking into order 123.");

        Assert.Equal("s1|order no. 123", call.Prompt);
        Reply reply = await first.Within();
        Assert.Same(reply, await second.Within());
        Assert.Same(reply, await third.Within());
        Assert.Equal(1, _model.Calls);
    }

    [Fact]
    public async Task A_message_after_the_close_opens_a_new_window_even_while_the_execution_runs()
    {
        Task<Reply> early = _desk.ReplyAsync("s1", "hello");
        _time.Advance(TimeSpan.FromSeconds(2));
        ModelCall running = await _model.NextCallAsync();

        Task<Reply> late = _desk.ReplyAsync("s1", "are you there?");
        running.Succeed("Hi!");
        Assert.Equal("Hi!", (await early.Within()).Text);
        Assert.False(late.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(2));
        ModelCall next = await _model.NextCallAsync();
        next.Succeed("Yes.");

        Assert.Equal("s1|are you there?", next.Prompt);
        Assert.Equal("Yes.", (await late.Within()).Text);
    }

    [Fact]
    public async Task A_sliding_window_waits_for_the_user_to_stop_typing_and_collects_every_message()
    {
        Task<Reply> a = _desk.ReplyToAllAsync("s1", "my order", new[] { 1 });
        _time.Advance(TimeSpan.FromMilliseconds(400));
        Task<Reply> b = _desk.ReplyToAllAsync("s1", "never arrived", new[] { 2 });
        _time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.Equal(0, _model.Calls);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        ModelCall call = await _model.NextCallAsync();
        call.Succeed("Sorry about that.");

        Assert.Equal("s1|my order / never arrived|1,2", call.Prompt);
        Assert.Same(await a.Within(), await b.Within());
    }

    [Fact]
    public async Task Supersede_cancels_the_stale_answer_and_gives_its_callers_the_newer_one()
    {
        ValueTask<Reply> draft = _desk.ReplyLatestAsync("s1", "refund?");
        _time.Advance(TimeSpan.FromSeconds(1));
        ModelCall stale = await _model.NextCallAsync();

        ValueTask<Reply> final = _desk.ReplyLatestAsync("s1", "refund for order 123?");
        Assert.True(stale.Token.IsCancellationRequested);
        _time.Advance(TimeSpan.FromSeconds(1));
        ModelCall fresh = await _model.NextCallAsync();
        fresh.Succeed("Refund for 123 is on its way.");

        Assert.Equal("s1|refund for order 123?", fresh.Prompt);
        Assert.Equal("Refund for 123 is on its way.", (await draft.AsTask().Within()).Text);
        Assert.Equal("Refund for 123 is on its way.", (await final.AsTask().Within()).Text);
        await Eventually.Until(() => _runtime.InFlightCount == 0, "the superseded execution has ended");
    }

    [Fact]
    public async Task A_caller_that_cancels_leaves_the_window_and_when_all_leave_the_model_is_never_called()
    {
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        Task<Reply> a = _desk.ReplyAsync("s1", "hello", first.Token);
        Task<Reply> b = _desk.ReplyAsync("s1", "hello again", second.Token);

        first.Cancel();
        Assert.Equal(first.Token, (await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.Within())).CancellationToken);
        second.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b.Within());
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(0, _model.Calls);
    }

    [Fact]
    public async Task When_every_caller_cancels_during_the_execution_the_model_call_is_cancelled()
    {
        using var caller = new CancellationTokenSource();
        Task<Reply> call = _desk.ReplyAsync("s1", "hello", caller.Token);
        _time.Advance(TimeSpan.FromSeconds(2));
        ModelCall running = await _model.NextCallAsync();

        caller.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.Within());
        await running.Ended;

        Assert.True(running.Token.IsCancellationRequested);
        await Eventually.Until(() => _runtime.InFlightCount == 0, "the cancelled execution has ended");
    }

    [Fact]
    public async Task A_merged_execution_is_retried_and_its_fallback_answers_every_caller_in_the_window()
    {
        Task<Reply> first = _desk.ReplyResilientlyAsync("s1", "where is");
        Task<Reply> second = _desk.ReplyResilientlyAsync("s1", "my parcel?");
        _time.Advance(TimeSpan.FromSeconds(1));
        ModelCall attempt = await _model.NextCallAsync();
        attempt.Fail(new System.Net.Http.HttpRequestException("busy", null, System.Net.HttpStatusCode.TooManyRequests));
        ModelCall retry = await _model.NextCallAsync();
        retry.Fail(new InvalidOperationException("content filter"));

        Reply reply = await first.Within();
        Assert.Same(reply, await second.Within());
        Assert.Equal("Sorry (InvalidOperationException), about: my parcel?", reply.Text);
        Assert.Equal("s1|my parcel?", retry.Prompt);
        Assert.Equal(2, _model.Calls);
    }

    [Fact]
    public async Task Only_the_latest_status_of_a_burst_is_pushed()
    {
        Task first = _desk.PushStatusAsync("t-7", "assigned");
        Task second = _desk.PushStatusAsync("t-7", "in progress");
        _time.Advance(TimeSpan.FromSeconds(1));
        ModelCall push = await _model.NextCallAsync();
        push.Succeed("ok");
        await Task.WhenAll(first, second).Within();

        Assert.Equal("t-7|in progress", push.Prompt);
        Assert.Equal(1, _model.Calls);
    }
}
