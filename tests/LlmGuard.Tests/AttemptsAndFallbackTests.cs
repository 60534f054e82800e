using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded;
using Polly.Timeout;

namespace LlmGuard.Tests;

/// <summary>Steps 4 and 5 of the contract: per-attempt timeout, retries on transient failures, fallback.</summary>
public sealed class AttemptsAndFallbackTests : IDisposable
{
    private readonly TimerAwareFakeTimeProvider _time = new();
    private readonly ScriptedModel _model = new();
    private readonly GuardRuntime _runtime;

    public AttemptsAndFallbackTests()
    {
        _runtime = new GuardRuntime(_time);
    }

    // Every scenario ends with nothing in flight: entries never outlive their execution.
    public void Dispose() => Assert.Equal(0, _runtime.InFlightCount);

    [Fact]
    public async Task An_attempt_that_times_out_is_cancelled_and_retried_and_the_retry_succeeds()
    {
        var assistant = new Assistant(_runtime, _model);
        Task<Reply> call = assistant.AskAsync("s1", "q");
        ModelCall first = await _model.NextCallAsync();

        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.False(first.Token.IsCancellationRequested);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        ModelCall second = await _model.NextCallAsync();
        second.Succeed("second attempt");

        Assert.Equal("second attempt", (await call.Within()).Text);
        Assert.True(first.Token.IsCancellationRequested);
        Assert.False(second.Token.IsCancellationRequested);
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task A_retry_waits_for_the_backoff_delay_on_the_runtimes_clock()
    {
        var assistant = new Assistant(_runtime, _model);
        Task<Reply> call = assistant.AskWithBackoffAsync("s1");
        (await _model.NextCallAsync()).Fail(new IOException("connection reset"));

        await _time.WhenTimersScheduledAsync();
        Assert.Equal(1, _model.Calls);
        _time.Advance(TimeSpan.FromMinutes(1));
        (await _model.NextCallAsync()).Succeed("after backoff");

        Assert.Equal("after backoff", (await call.Within()).Text);
        Assert.Equal(2, _model.Calls);
    }

    [Fact]
    public async Task A_non_transient_failure_is_not_retried()
    {
        var assistant = new Assistant(_runtime, _model);
        Task<Reply> call = assistant.AskAsync("s1", "q");
        (await _model.NextCallAsync()).Fail(new InvalidOperationException("bad request"));

        // The caller sees the failure only once the attempts are over, so one call means no retry.
        await Assert.ThrowsAsync<InvalidOperationException>(() => call.Within());
        Assert.Equal(1, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task Transient_failures_are_retried_up_to_MaxRetries_and_the_last_failure_reaches_the_caller()
    {
        var assistant = new Assistant(_runtime, _model);
        Task<Reply> call = assistant.AskAsync("s1", "q");
        for (int attempt = 0; attempt < 3; attempt++)
        {
            (await _model.NextCallAsync()).Fail(new TimeoutException("attempt " + attempt));
        }

        TimeoutException failure = await Assert.ThrowsAsync<TimeoutException>(() => call.Within());
        Assert.Equal("attempt 2", failure.Message);
        Assert.Equal(3, _model.Calls);
    }

    [Fact]
    public async Task The_fallback_receives_the_last_failure_and_its_result_reaches_every_waiter()
    {
        var assistant = new ApologeticAssistant(_runtime, _model);
        Task<Reply>[] calls = Enumerable.Range(0, 4).Select(_ => assistant.AskAsync("s1")).ToArray();
        (await _model.NextCallAsync()).Fail(new IOException("reset"));
        (await _model.NextCallAsync()).Fail(new InvalidOperationException("refused"));

        Reply[] replies = await Task.WhenAll(calls).Within();

        Assert.All(replies, reply => Assert.Same(replies[0], reply));
        Assert.Equal("Sorry, s1: InvalidOperationException", replies[0].Text);
        Assert.IsType<InvalidOperationException>(assistant.LastFailure);
        Assert.Equal(1, assistant.Fallbacks);
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task The_fallback_receives_the_timeout_when_every_attempt_timed_out()
    {
        var assistant = new ApologeticAssistant(_runtime, _model);
        Task<Reply> call = assistant.AskAsync("s1");
        await _model.NextCallAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        await _model.NextCallAsync();
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal("Sorry, s1: TimeoutRejectedException", (await call.Within()).Text);
        Assert.IsType<TimeoutRejectedException>(assistant.LastFailure);
    }
}
