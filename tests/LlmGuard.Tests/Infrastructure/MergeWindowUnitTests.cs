using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Infrastructure;
using LlmGuard.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Infrastructure;

/// <summary>Step 2 of the contract, the merge window, on its own with a fake clock.</summary>
public sealed class MergeWindowUnitTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly ConcurrentQueue<(string Arguments, CancellationToken Token)> _executions = new();
    private MergeWindow<string> _windows;

    public MergeWindowUnitTests()
    {
        _windows = new MergeWindow<string>(_time, 2000, MergeMode.Fixed, 0, supersede: false);
    }

    public void Dispose() => Assert.Equal(0, _windows.Count);

    private Task<string> Call(string key, string arguments, CancellationToken cancellationToken = default) =>
        _windows.JoinAsync(key, arguments, merge: null, Echo, cancellationToken);

    // Answers with the arguments it ran with, so callers can see which call's arguments won.
    private ValueTask<string> Echo(string arguments, CancellationToken token)
    {
        _executions.Enqueue((arguments, token));
        return ValueTask.FromResult("answer to " + arguments);
    }

    [Fact]
    public async Task A_burst_inside_one_window_runs_once_with_the_latest_arguments_for_every_caller()
    {
        Task<string> first = Call("s1", "I want to complain");
        _time.Advance(TimeSpan.FromMilliseconds(500));
        Task<string> second = Call("s1", "about yesterday's order");
        _time.Advance(TimeSpan.FromMilliseconds(1499));
        Task<string> third = Call("s1", "order no. 123");
        Assert.Empty(_executions);

        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal("order no. 123", Assert.Single(_executions).Arguments);
        foreach (Task<string> call in new[] { first, second, third })
        {
            Assert.Equal("answer to order no. 123", await call.Within());
        }
    }

    [Fact]
    public async Task Staggered_bursts_run_once_per_window()
    {
        Task<string> a = Call("s1", "a1");
        Task<string> b = Call("s1", "a2");
        _time.Advance(TimeSpan.FromSeconds(2));
        Task<string> c = Call("s1", "b1");
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(new[] { "a2", "b1" }, _executions.Select(e => e.Arguments));
        Assert.Equal("answer to a2", await a.Within());
        Assert.Equal("answer to a2", await b.Within());
        Assert.Equal("answer to b1", await c.Within());
    }

    [Fact]
    public async Task Different_keys_have_their_own_windows()
    {
        Task<string> a = Call("s1", "x");
        Task<string> b = Call("s2", "y");
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal("answer to x", await a.Within());
        Assert.Equal("answer to y", await b.Within());
        Assert.Equal(2, _executions.Count);
    }

    [Fact]
    public async Task A_call_during_the_execution_opens_a_new_window_instead_of_joining_the_older_execution()
    {
        var running = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        int executions = 0;
        ValueTask<string> Slow(string arguments, CancellationToken _) =>
            Interlocked.Increment(ref executions) == 1 ? new(running.Task) : ValueTask.FromResult("answer to " + arguments);

        Task<string> early = _windows.JoinAsync("s1", "old", null, Slow, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(2));
        Task<string> late = _windows.JoinAsync("s1", "new", null, Slow, CancellationToken.None);
        running.SetResult("answer to old");
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal("answer to old", await early.Within());
        Assert.Equal("answer to new", await late.Within());
        Assert.Equal(2, executions);
    }

    [Fact]
    public async Task A_caller_that_cancels_leaves_the_window_and_the_others_still_get_the_outcome()
    {
        using var leaving = new CancellationTokenSource();
        Task<string> left = Call("s1", "first", leaving.Token);
        Task<string> stays = Call("s1", "second");

        leaving.Cancel();
        Assert.Equal(leaving.Token, (await Assert.ThrowsAnyAsync<OperationCanceledException>(() => left.Within())).CancellationToken);
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal("answer to second", await stays.Within());
    }

    [Fact]
    public async Task When_every_caller_cancels_before_the_close_the_execution_never_runs()
    {
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        Task<string> a = Call("s1", "a", first.Token);
        Task<string> b = Call("s1", "b", second.Token);

        first.Cancel();
        second.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.Within());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b.Within());
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Empty(_executions);
    }

    [Fact]
    public async Task When_every_caller_cancels_during_the_execution_its_token_is_cancelled()
    {
        var running = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource<CancellationToken>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var caller = new CancellationTokenSource();
        Task<string> call = _windows.JoinAsync("s1", "a", null, (_, token) => { started.TrySetResult(token); return new ValueTask<string>(running.Task.WaitAsync(token)); }, caller.Token);
        _time.Advance(TimeSpan.FromSeconds(2));

        // The closed window may start its execution on the timer's thread: cancel only once it runs.
        CancellationToken executionToken = await started.Task.Within();
        Assert.False(executionToken.IsCancellationRequested);

        caller.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.Within());

        Assert.True(executionToken.IsCancellationRequested);
    }

    [Fact]
    public async Task A_failure_reaches_every_joined_caller_and_is_not_cached()
    {
        int executions = 0;
        ValueTask<string> Failing(string arguments, CancellationToken _) =>
            Interlocked.Increment(ref executions) == 1 ? ValueTask.FromException<string>(new InvalidOperationException("model down")) : ValueTask.FromResult("answer to " + arguments);

        Task<string> a = _windows.JoinAsync("s1", "a", null, Failing, CancellationToken.None);
        Task<string> b = _windows.JoinAsync("s1", "b", null, Failing, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(2));
        Exception failure = await Assert.ThrowsAsync<InvalidOperationException>(() => a.Within());
        Assert.Same(failure, await Assert.ThrowsAsync<InvalidOperationException>(() => b.Within()));

        Task<string> c = _windows.JoinAsync("s1", "c", null, Failing, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal("answer to c", await c.Within());
    }

    [Fact]
    public async Task A_sliding_window_waits_for_quiet_but_never_longer_than_the_cap()
    {
        _windows = new MergeWindow<string>(_time, 500, MergeMode.Sliding, 1200, supersede: false);
        var calls = new List<Task<string>> { Call("s1", "typing 0") };
        for (int i = 1; i <= 3; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(350));
            calls.Add(Call("s1", "typing " + i));
        }

        // The last call was at 1 050 ms: quiet would close the window at 1 550 ms, the cap closes it at 1 200 ms.
        _time.Advance(TimeSpan.FromMilliseconds(149));
        Assert.Empty(_executions);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal("typing 3", Assert.Single(_executions).Arguments);
        foreach (Task<string> call in calls)
        {
            Assert.Equal("answer to typing 3", await call.Within());
        }
    }

    [Fact]
    public async Task A_sliding_window_closes_after_the_quiet_time()
    {
        _windows = new MergeWindow<string>(_time, 500, MergeMode.Sliding, 10_000, supersede: false);
        Task<string> first = Call("s1", "a");
        _time.Advance(TimeSpan.FromMilliseconds(300));
        Task<string> second = Call("s1", "b");
        _time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.Empty(_executions);

        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal("answer to b", await first.Within());
        Assert.Equal("answer to b", await second.Within());
    }

    [Fact]
    public async Task Supersede_cancels_the_running_execution_and_moves_its_callers_to_the_newer_answer()
    {
        _windows = new MergeWindow<string>(_time, 1000, MergeMode.Fixed, 0, supersede: true);
        var firstExecution = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        CancellationToken firstToken = default;
        int executions = 0;
        ValueTask<string> Execute(string arguments, CancellationToken token)
        {
            if (Interlocked.Increment(ref executions) == 1)
            {
                firstToken = token;
                return new(firstExecution.Task.WaitAsync(token));
            }

            return ValueTask.FromResult("answer to " + arguments);
        }

        Task<string> early = _windows.JoinAsync("s1", "draft", null, Execute, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(1));
        Task<string> late = _windows.JoinAsync("s1", "final", null, Execute, CancellationToken.None);

        Assert.True(firstToken.IsCancellationRequested);
        Assert.False(early.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal("answer to final", await early.Within());
        Assert.Equal("answer to final", await late.Within());
        Assert.Equal(2, executions);

        // The superseded execution unwinds its cancellation on another thread; it still counts until it has.
        await Eventually.Until(() => _windows.Count == 0, "the superseded execution has ended");
    }

    [Fact]
    public async Task Appended_arguments_arrive_in_order_and_survive_a_supersede()
    {
        _windows = new MergeWindow<string>(_time, 1000, MergeMode.Fixed, 0, supersede: true);
        var firstExecution = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var ranWith = new ConcurrentQueue<string>();
        ValueTask<string> Execute(string messages, CancellationToken token)
        {
            ranWith.Enqueue(messages);
            return ranWith.Count == 1 ? new(firstExecution.Task.WaitAsync(token)) : ValueTask.FromResult(messages);
        }

        static string Merge(IReadOnlyList<string> calls) => string.Join(" | ", calls);
        Task<string> a = _windows.JoinAsync("s1", "I want to complain", Merge, Execute, CancellationToken.None);
        Task<string> b = _windows.JoinAsync("s1", "about yesterday's order", Merge, Execute, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(1));
        Task<string> c = _windows.JoinAsync("s1", "order no. 123", Merge, Execute, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(1));

        const string everything = "I want to complain | about yesterday's order | order no. 123";
        Assert.Equal(new[] { "I want to complain | about yesterday's order", everything }, ranWith);
        Assert.Equal(everything, await a.Within());
        Assert.Equal(everything, await b.Within());
        Assert.Equal(everything, await c.Within());
        await Eventually.Until(() => _windows.Count == 0, "the superseded execution has ended");
    }

    [Fact]
    public async Task An_execution_that_joins_its_own_key_fails_fast()
    {
        Task<string> call = _windows.JoinAsync("s1", "a", null, (arguments, token) => new ValueTask<string>(_windows.JoinAsync("s1", arguments, null, Echo, token)), CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(2));

        await Assert.ThrowsAsync<GuardRecursionException>(() => call.Within(1));
    }

    [Fact]
    public async Task No_caller_ever_receives_a_result_computed_from_arguments_older_than_its_own()
    {
        // Real threads join while a pump thread moves the clock and executions finish at random moments.
        // Per key, a caller takes its sequence number and joins under one lock, so sequence order is join order.
        const int Threads = 4, CallsPerThread = 600, Keys = 5;
        var random = new Random(20261121);
        int[] delays = Enumerable.Range(0, Threads * CallsPerThread).Select(_ => random.Next(0, 3)).ToArray();
        _windows = new MergeWindow<string>(_time, 3, MergeMode.Fixed, 0, supersede: false);
        var keyLocks = Enumerable.Range(0, Keys).Select(_ => new object()).ToArray();
        int[] nextSequence = new int[Keys];
        var violations = new ConcurrentQueue<string>();
        int executions = 0;

        async ValueTask<string> Execute(string arguments, CancellationToken token)
        {
            Interlocked.Increment(ref executions);
            if (int.Parse(arguments.Split('#')[1], System.Globalization.CultureInfo.InvariantCulture) % 3 == 0)
            {
                await Task.Yield();
            }

            return arguments;
        }

        using var done = new CancellationTokenSource();
        var pump = Task.Run(() =>
        {
            while (!done.IsCancellationRequested)
            {
                _time.Advance(TimeSpan.FromMilliseconds(1));
                Thread.Yield();
            }
        });

        // Workers issue calls without waiting for them, so windows fill with several calls while the pump closes them.
        var workers = Enumerable.Range(0, Threads).Select(thread => Task.Run(async () =>
        {
            var issued = new List<(int Key, int Sequence, Task<string> Call)>();
            for (int i = 0; i < CallsPerThread; i++)
            {
                int key = (thread + i) % Keys;
                lock (keyLocks[key])
                {
                    int sequence = nextSequence[key]++;
                    issued.Add((key, sequence, _windows.JoinAsync("k" + key, key + "#" + sequence, null, Execute, CancellationToken.None)));
                }

                if (delays[(thread * CallsPerThread) + i] == 0)
                {
                    await Task.Yield();
                }
            }

            foreach ((int key, int sequence, Task<string> call) in issued)
            {
                int answeredWith = int.Parse((await call.Within()).Split('#')[1], System.Globalization.CultureInfo.InvariantCulture);
                if (answeredWith < sequence)
                {
                    violations.Enqueue($"key {key}: call {sequence} got the answer to {answeredWith}");
                }
            }
        })).ToArray();

        await Task.WhenAll(workers).Within(60);
        done.Cancel();
        await pump.Within();

        Assert.Empty(violations);
        Assert.InRange(executions, 1, Threads * CallsPerThread - 1);
    }
}
