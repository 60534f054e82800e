using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests;

/// <summary>Step 3 of the contract: concurrent calls with one key share one execution.</summary>
public sealed class SingleFlightTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedModel _model = new();
    private readonly GuardRuntime _runtime;
    private readonly Assistant _assistant;

    public SingleFlightTests()
    {
        _runtime = new GuardRuntime(_time);
        _assistant = new Assistant(_runtime, _model);
    }

    // Every scenario ends with nothing in flight: entries never outlive their execution.
    public void Dispose() => Assert.Equal(0, _runtime.InFlightCount);

    [Fact]
    public async Task Concurrent_callers_with_one_key_share_one_execution_and_one_result()
    {
        const int callers = 64;
        var calls = new Task<Reply>[callers];

        Parallel.For(0, callers, i => calls[i] = _assistant.AskAsync("s1", "where is my order?"));
        ModelCall call = await _model.NextCallAsync();
        call.Succeed("It ships today.");
        Reply[] replies = await Task.WhenAll(calls).Within();

        Assert.Equal(1, _model.Calls);
        Assert.Equal("s1|where is my order?", call.Prompt);
        Assert.All(replies, reply => Assert.Same(replies[0], reply));
        Assert.Equal("It ships today.", replies[0].Text);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task Calls_with_different_keys_run_independent_executions()
    {
        Task<Reply> first = _assistant.AskAsync("s1", "hello");
        Task<Reply> second = _assistant.AskAsync("s2", "hello");
        await _model.AnswerTwoAsync("s1|hello", "one", "two");

        Assert.Equal("one", (await first.Within()).Text);
        Assert.Equal("two", (await second.Within()).Text);
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Theory]
    [InlineData("a:b", "c", "a", "b:c")]
    [InlineData("a\\", ":b", "a", "\\:b")]
    [InlineData("∅", "x", null, "x")]
    [InlineData("", "x", null, "x")]
    public async Task Values_containing_separators_escapes_or_null_never_share_a_key(string? firstSession, string firstQuestion, string? secondSession, string secondQuestion)
    {
        Task<Reply> first = _assistant.AskAsync(firstSession!, firstQuestion);
        Task<Reply> second = _assistant.AskAsync(secondSession!, secondQuestion);
        ModelCall a = await _model.NextCallAsync();
        ModelCall b = await _model.NextCallAsync();
        a.Succeed(a.Prompt);
        b.Succeed(b.Prompt);

        Assert.Equal(firstSession + "|" + firstQuestion, (await first.Within()).Text);
        Assert.Equal(secondSession + "|" + secondQuestion, (await second.Within()).Text);
        Assert.Equal(2, _model.Calls);
    }

    [Fact]
    public async Task Callers_with_the_same_explicit_key_share_the_first_callers_execution_even_if_other_arguments_differ()
    {
        Task<Reply> first = _assistant.AskInSessionAsync("s1", "first question");
        Task<Reply> second = _assistant.AskInSessionAsync("s1", "second question");
        ModelCall call = await _model.NextCallAsync();
        call.Succeed("answer");

        Assert.Same(await first.Within(), await second.Within());
        Assert.Equal("s1|first question", call.Prompt);
        Assert.Equal(1, _model.Calls);
    }

    [Fact]
    public async Task A_call_after_completion_starts_a_new_execution()
    {
        Task<Reply> first = _assistant.AskAsync("s1", "q");
        (await _model.NextCallAsync()).Succeed("first");
        await first.Within();

        Task<Reply> second = _assistant.AskAsync("s1", "q");
        (await _model.NextCallAsync()).Succeed("second");

        Assert.Equal("second", (await second.Within()).Text);
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task An_eleventh_call_after_a_failed_flight_runs_the_core_again()
    {
        var failing = new FailingAssistant(_runtime, _model);
        Task<Reply>[] firstTen = Enumerable.Range(0, 10).Select(_ => failing.AskAsync("s1")).ToArray();
        (await _model.NextCallAsync()).Succeed("nope");
        foreach (Task<Reply> call in firstTen)
        {
            await Assert.ThrowsAsync<ProviderRejectedException>(() => call.Within());
        }

        Task<Reply> eleventh = failing.AskAsync("s1");
        (await _model.NextCallAsync()).Succeed("still no");

        await Assert.ThrowsAsync<ProviderRejectedException>(() => eleventh.Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task A_failure_reaches_every_waiter_as_the_same_exception_with_the_cores_stack()
    {
        var failing = new FailingAssistant(_runtime, _model);
        Task<Reply>[] calls = Enumerable.Range(0, 5).Select(_ => failing.AskAsync("s1")).ToArray();
        (await _model.NextCallAsync()).Succeed("blocked");

        var failures = new Exception[calls.Length];
        for (int i = 0; i < calls.Length; i++)
        {
            failures[i] = await Assert.ThrowsAsync<ProviderRejectedException>(() => calls[i].Within());
        }

        Assert.All(failures, failure => Assert.Same(failures[0], failure));
        Assert.Contains(nameof(FailingAssistant) + ".AskCoreAsync", failures[0].StackTrace);
        Assert.Equal(1, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task A_core_that_throws_before_returning_a_task_fails_the_call_without_leaking_an_entry()
    {
        var failing = new FailingAssistant(_runtime, _model);

        ArgumentException failure = await Assert.ThrowsAsync<ArgumentException>(() => failing.ValidateAsync(" ").Within());

        Assert.Equal("sessionId", failure.ParamName);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task A_waiter_that_blocks_in_its_continuation_does_not_stall_the_other_waiters()
    {
        using var release = new ManualResetEventSlim();
        Task<Reply> blocked = _assistant.AskAsync("s1", "q");
        Task blocker = blocked.ContinueWith(_ => release.Wait(TimeSpan.FromSeconds(10)), TaskContinuationOptions.ExecuteSynchronously);
        Task<Reply> other = _assistant.AskAsync("s1", "q");

        (await _model.NextCallAsync()).Succeed("answer");

        Assert.Equal("answer", (await other.Within(5)).Text);
        Assert.False(blocker.IsCompleted);
        release.Set();
        await blocker.Within();
    }

    [Fact]
    public async Task Two_runtimes_never_share_an_execution_but_two_instances_on_one_runtime_do()
    {
        var otherRuntime = new GuardRuntime(_time);
        var sameRuntimeInstance = new Assistant(_runtime, _model);
        var otherRuntimeInstance = new Assistant(otherRuntime, _model);

        Task<Reply> first = _assistant.AskAsync("s1", "q");
        Task<Reply> sameRuntime = sameRuntimeInstance.AskAsync("s1", "q");
        Task<Reply> otherRuntimeCall = otherRuntimeInstance.AskAsync("s1", "q");
        ModelCall a = await _model.NextCallAsync();
        ModelCall b = await _model.NextCallAsync();
        a.Succeed("a");
        b.Succeed("b");

        Assert.Same(await first.Within(), await sameRuntime.Within());
        Assert.NotSame(await first.Within(), await otherRuntimeCall.Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
        Assert.Equal(0, otherRuntime.InFlightCount);
    }

    [Fact]
    public async Task Without_singleflight_every_call_runs_its_own_execution()
    {
        Task<Reply> first = _assistant.AskAloneAsync("s1");
        Task<Reply> second = _assistant.AskAloneAsync("s1");
        (await _model.NextCallAsync()).Succeed("one");
        (await _model.NextCallAsync()).Succeed("two");

        Assert.NotSame(await first.Within(), await second.Within());
        Assert.Equal(2, _model.Calls);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_core_that_calls_its_own_guarded_method_with_the_same_key_fails_fast_instead_of_deadlocking(bool yieldFirst)
    {
        var recursive = new RecursiveAssistant(_runtime);

        GuardRecursionException failure = await Assert.ThrowsAsync<GuardRecursionException>(() => recursive.AskAsync("s1", yieldFirst).Within(1));

        Assert.Contains("s1", failure.Key);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task Task_and_ValueTask_shapes_share_executions_and_results()
    {
        Notifications.Runtime = _runtime;
        Notifications.Model = _model;

        Task first = Notifications.NotifyAsync("t-1");
        Task second = Notifications.NotifyAsync("t-1");
        (await _model.NextCallAsync()).Succeed("sent");
        await Task.WhenAll(first, second).Within();
        Assert.Equal(1, _model.Calls);

        ValueTask<int> count = Notifications.CountAsync("billing");
        ValueTask<int> sameCount = Notifications.CountAsync("billing");
        (await _model.NextCallAsync()).Succeed("42");
        Assert.Equal(42, await count.AsTask().Within());
        Assert.Equal(42, await sameCount.AsTask().Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }
}
