using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Execution;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded;
using Polly.Timeout;

namespace LlmGuard.Tests;

/// <summary>
/// Step 4 of the contract, for a core that ignores its token: once an attempt's token is cancelled the core has a
/// grace to stop, then the attempt is abandoned so its callers are answered and its key is freed.
/// </summary>
public sealed class AbandonedAttemptTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(50);

    private readonly TimerAwareFakeTimeProvider _time = new();
    private readonly ScriptedModel _stubborn = new() { IgnoresCancellation = true };
    private readonly GuardRuntime _runtime;

    public AbandonedAttemptTests()
    {
        _runtime = new GuardRuntime(_time);
    }

    // Every scenario ends with nothing in flight: an abandoned attempt does not hold its key.
    public void Dispose() => Assert.Equal(0, _runtime.InFlightCount);

    [Fact]
    public async Task A_caller_without_a_token_gets_the_timeout_one_grace_after_it_even_when_the_core_never_returns()
    {
        var assistant = new StubbornAssistant(_runtime, _stubborn);
        Task<Reply> call = assistant.AskAsync("s1");
        ModelCall stuck = await _stubborn.NextCallAsync();

        await TimeOutAttemptAsync();
        _time.Advance(AttemptGrace.Grace - TimeSpan.FromMilliseconds(1));
        Assert.False(call.IsCompleted);
        Assert.Equal(0, _runtime.AbandonedAttemptCount);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        await Assert.ThrowsAsync<TimeoutRejectedException>(() => call.Within());
        Assert.Equal(1, _runtime.AbandonedAttemptCount);
        Assert.False(stuck.Ended.IsCompleted);
        Assert.Equal(0, _runtime.InFlightCount);
        stuck.Succeed("too late");
    }

    [Fact]
    public async Task The_fallback_answers_when_the_only_attempt_was_abandoned()
    {
        var assistant = new StubbornAssistant(_runtime, _stubborn);
        Task<Reply> call = assistant.AskOrApologizeAsync("s1");
        ModelCall stuck = await _stubborn.NextCallAsync();

        await TimeOutAttemptAsync();
        _time.Advance(AttemptGrace.Grace);

        Assert.Equal("Sorry, s1: TimeoutRejectedException", (await call.Within()).Text);
        Assert.Equal(1, _runtime.AbandonedAttemptCount);
        stuck.Succeed("too late");
    }

    [Fact]
    public async Task After_an_abandoned_attempt_a_new_caller_of_the_key_starts_a_new_execution_and_the_late_answer_is_discarded()
    {
        var assistant = new StubbornAssistant(_runtime, _stubborn);
        Task<Reply> first = assistant.AskAsync("s1");
        Task<Reply> joined = assistant.AskAsync("s1");
        ModelCall stuck = await _stubborn.NextCallAsync();
        await TimeOutAttemptAsync();
        _time.Advance(AttemptGrace.Grace);
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => first.Within());
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => joined.Within());

        Task<Reply> later = assistant.AskAsync("s1");
        ModelCall fresh = await _stubborn.NextCallAsync();
        stuck.Succeed("stale");
        await stuck.Ended;
        fresh.Succeed("fresh");

        Assert.Equal("fresh", (await later.Within()).Text);
        Assert.Equal(2, _stubborn.Calls);
    }

    [Fact]
    public async Task A_retry_follows_an_abandoned_attempt_and_the_abandoned_cores_late_answer_never_reaches_the_caller()
    {
        var assistant = new StubbornAssistant(_runtime, _stubborn);
        Task<Reply> call = assistant.AskWithRetryAsync("s1");
        ModelCall stuck = await _stubborn.NextCallAsync();
        await TimeOutAttemptAsync();
        _time.Advance(AttemptGrace.Grace);

        ModelCall retry = await _stubborn.NextCallAsync();
        stuck.Succeed("late");
        await stuck.Ended;
        Assert.False(call.IsCompleted);
        retry.Succeed("retried");

        Assert.Equal("retried", (await call.Within()).Text);
        Assert.Equal(1, _runtime.AbandonedAttemptCount);
    }

    [Fact]
    public async Task A_core_that_answers_within_the_grace_after_its_timeout_still_delivers_its_answer()
    {
        var assistant = new StubbornAssistant(_runtime, _stubborn);
        Task<Reply> call = assistant.AskAsync("s1");
        ModelCall slow = await _stubborn.NextCallAsync();
        await TimeOutAttemptAsync();

        slow.Succeed("just in time");

        Assert.Equal("just in time", (await call.Within()).Text);
        Assert.Equal(0, _runtime.AbandonedAttemptCount);
    }

    [Fact]
    public async Task A_core_that_honours_its_token_ends_the_attempt_itself_without_waiting_for_the_grace()
    {
        var cooperative = new ScriptedModel();
        var assistant = new StubbornAssistant(_runtime, cooperative);
        Task<Reply> call = assistant.AskAsync("s1");
        ModelCall attempt = await cooperative.NextCallAsync();

        _time.Advance(Timeout);

        // The clock stops at the timeout: only the core's own cancellation can end the attempt here.
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => call.Within());
        await attempt.Ended;
        Assert.Equal(0, _runtime.AbandonedAttemptCount);
    }

    [Fact]
    public async Task When_every_caller_left_an_execution_whose_core_ignores_its_token_is_abandoned_after_the_grace()
    {
        var assistant = new StubbornAssistant(_runtime, _stubborn);
        using var leaving = new CancellationTokenSource();
        Task<Reply> call = assistant.AskWithoutTimeoutAsync("s1", leaving.Token);
        ModelCall stuck = await _stubborn.NextCallAsync();

        leaving.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.Within());
        await _time.WhenTimersScheduledAsync();
        Assert.Equal(0, _runtime.AbandonedAttemptCount);
        _time.Advance(AttemptGrace.Grace);

        await Eventually.Until(() => _runtime.AbandonedAttemptCount == 1, "the execution abandons its core");
        Assert.True(stuck.Token.IsCancellationRequested);
        stuck.Succeed("nobody waits");
    }

    [Fact]
    public async Task An_abandoned_core_that_fails_later_leaves_no_unobserved_task_exception()
    {
        string marker = "late failure " + Guid.NewGuid();
        int unobserved = 0;
        EventHandler<UnobservedTaskExceptionEventArgs> watch = (_, e) =>
        {
            if (e.Exception.ToString().Contains(marker, StringComparison.Ordinal))
            {
                Interlocked.Increment(ref unobserved);
            }
        };
        TaskScheduler.UnobservedTaskException += watch;
        try
        {
            await AbandonThenFailAsync(marker);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= watch;
        }

        Assert.Equal(0, Volatile.Read(ref unobserved));
    }

    [Fact]
    public async Task Randomized_mix_of_cooperative_and_stubborn_cores_answers_every_caller_and_abandons_every_stuck_attempt()
    {
        const int seed = 20261201;
        var random = new Random(seed);
        const int CallCount = 200;
        const int Keys = 8;

        // One behaviour per attempt, drawn up front so the run is reproducible from its seed (up to thread timing).
        Behaviour[] behaviours = Enumerable.Range(0, CallCount * 2).Select(_ => (Behaviour)random.Next(4)).ToArray();
        var late = new ConcurrentQueue<TaskCompletionSource<string>>();
        var never = new ConcurrentBag<TaskCompletionSource<string>>();
        int attempts = 0;
        Task<string> Core(string key, CancellationToken token)
        {
            switch (behaviours[(Interlocked.Increment(ref attempts) - 1) % behaviours.Length])
            {
                case Behaviour.Immediate:
                    return Task.FromResult("ok");
                case Behaviour.Cooperative:
                    var cancelled = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                    token.Register(() => cancelled.TrySetCanceled(token));
                    return cancelled.Task;
                case Behaviour.Late:
                    var answer = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                    late.Enqueue(answer);
                    return answer.Task;
                default:
                    var stuck = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                    never.Add(stuck);
                    return stuck.Task;
            }
        }

        var assistant = new ScriptedCoreAssistant(_runtime, Core);
        var leaving = Enumerable.Range(0, CallCount).Select(i => i % 4 == 0 ? new CancellationTokenSource() : null).ToArray();
        string[] keys = Enumerable.Range(0, CallCount).Select(_ => "k" + random.Next(Keys)).ToArray();
        var calls = new Task<string>[CallCount];
        await Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(() =>
        {
            for (int i = worker; i < CallCount; i += 4)
            {
                calls[i] = assistant.AskAsync(keys[i], leaving[i]?.Token ?? default);
            }
        })));

        // Without abandonment a caller of a stuck core would wait forever, and so would this loop until its deadline.
        // A late core may be abandoned too, so the count only has to reach the stuck ones.
        var deadline = Stopwatch.StartNew();
        while (!calls.All(c => c.IsCompleted) || !late.IsEmpty || _runtime.AbandonedAttemptCount < never.Count)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(20), $"Seed {seed}: callers or stuck attempts still waiting.");
            _time.Advance(TimeSpan.FromMilliseconds(random.Next(1, 30)));
            if (random.Next(3) == 0 && late.TryDequeue(out TaskCompletionSource<string>? answer))
            {
                answer.SetResult("late");
            }

            if (random.Next(8) == 0 && leaving[random.Next(CallCount)] is { } caller)
            {
                caller.Cancel();
            }

            await Task.Yield();
        }

        for (int i = 0; i < CallCount; i++)
        {
            string outcome = await OutcomeOf(calls[i]);
            bool answered = outcome is "ok" or "late" or nameof(TimeoutRejectedException)
                || outcome is nameof(TaskCanceledException) or nameof(OperationCanceledException) && leaving[i] is { IsCancellationRequested: true };
            Assert.True(answered, $"Seed {seed}: call {i} ended with {outcome}.");
        }

        Assert.InRange(_runtime.AbandonedAttemptCount, never.Count, never.Count + behaviours.Count(b => b == Behaviour.Late));
        Assert.Equal(0, _runtime.InFlightCount);
        foreach (TaskCompletionSource<string> stuck in never)
        {
            stuck.SetResult("too late");
        }

        Array.ForEach(leaving, source => source?.Dispose());
    }

    private static async Task<string> OutcomeOf(Task<string> call)
    {
        try
        {
            return await call;
        }
        catch (Exception exception)
        {
            return exception.GetType().Name;
        }
    }

    // Kept out of the test method so that no local of the test keeps the abandoned tasks reachable during the GC.
    private async Task AbandonThenFailAsync(string marker)
    {
        var assistant = new StubbornAssistant(_runtime, _stubborn);
        Task<Reply> call = assistant.AskAsync("s1");
        ModelCall stuck = await _stubborn.NextCallAsync();
        await TimeOutAttemptAsync();
        _time.Advance(AttemptGrace.Grace);
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => call.Within());

        stuck.Fail(new IOException(marker));
        await stuck.Ended;
    }

    // Fires the attempt's timeout, then waits for the grace timer the attempt starts on another thread.
    private async Task TimeOutAttemptAsync()
    {
        _time.Advance(Timeout);
        await _time.WhenTimersScheduledAsync();
    }

    private enum Behaviour
    {
        Immediate,
        Cooperative,
        Late,
        Never,
    }
}
