using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Infrastructure;
using LlmGuard.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.MergeWindows;

/// <summary>A new window every window length, each superseding the running execution: the chain still answers.</summary>
public sealed class SupersedeChainTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly ConcurrentQueue<(string Arguments, CancellationToken Token, TaskCompletionSource<string> Answer)> _executions = new();

    // Every execution runs until the test answers it or it is cancelled.
    private ValueTask<string> Execute(string arguments, CancellationToken token)
    {
        var answer = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _executions.Enqueue((arguments, token, answer));
        return new ValueTask<string>(answer.Task.WaitAsync(token));
    }

    [Fact]
    public async Task A_fixed_window_stops_superseding_once_the_oldest_caller_waited_five_windows_and_that_execution_answers_the_chain()
    {
        var windows = new MergeWindow<string>(_time, 100, MergeMode.Fixed, 0, supersede: true);
        Assert.Equal(TimeSpan.FromMilliseconds(500), windows.SupersedeCap);
        var chain = new List<Task<string>>();
        for (int i = 0; i < 5; i++)
        {
            chain.Add(windows.JoinAsync("k", "m" + i, null, Execute, CancellationToken.None));
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        // The oldest caller has waited 500 ms: this window waits for its own turn instead of superseding.
        Task<string> next = windows.JoinAsync("k", "m5", null, Execute, CancellationToken.None);

        var executions = _executions.ToArray();
        Assert.Equal(new[] { "m0", "m1", "m2", "m3", "m4" }, executions.Select(e => e.Arguments));
        Assert.All(executions.Take(4), e => Assert.True(e.Token.IsCancellationRequested));
        Assert.False(executions[4].Token.IsCancellationRequested);
        executions[4].Answer.SetResult("answer to m4");

        foreach (Task<string> call in chain)
        {
            Assert.Equal("answer to m4", await call.Within());
        }

        Assert.False(next.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        _executions.Last().Answer.SetResult("answer to m5");
        Assert.Equal("answer to m5", await next.Within());
        await Eventually.Until(() => windows.Count == 0, "every superseded execution has ended");
    }

    [Fact]
    public async Task A_sliding_window_caps_the_chain_at_its_longest_wait()
    {
        var windows = new MergeWindow<string>(_time, 100, MergeMode.Sliding, 250, supersede: true);
        Task<string> first = windows.JoinAsync("k", "m0", null, Execute, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Task<string> second = windows.JoinAsync("k", "m1", null, Execute, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Task<string> third = windows.JoinAsync("k", "m2", null, Execute, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(100));

        // m1's window took m0 over at 100 ms; at 200 ms the oldest caller is within the cap, at 300 ms it is not.
        Task<string> fourth = windows.JoinAsync("k", "m3", null, Execute, CancellationToken.None);
        var executions = _executions.ToArray();
        Assert.Equal(3, executions.Length);
        Assert.True(executions[1].Token.IsCancellationRequested);
        Assert.False(executions[2].Token.IsCancellationRequested);
        executions[2].Answer.SetResult("answer to m2");

        Assert.Equal("answer to m2", await first.Within());
        Assert.Equal("answer to m2", await second.Within());
        Assert.Equal("answer to m2", await third.Within());
        Assert.False(fourth.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        _executions.Last().Answer.SetResult("answer to m3");
        Assert.Equal("answer to m3", await fourth.Within());
        await Eventually.Until(() => windows.Count == 0, "every superseded execution has ended");
    }

    [Fact]
    public async Task A_chain_of_fifty_thousand_supersedes_completes_every_caller_without_recursing()
    {
        // A long cap lets the chain grow to the length that overflowed the stack when completion recursed.
        const int Windows = 50_000;
        var windows = new MergeWindow<string>(_time, 1, MergeMode.Sliding, 86_400_000, supersede: true);

        // A superseded execution ends quietly, without throwing, so fifty thousand of them stay cheap.
        var executions = new List<(CancellationToken Token, TaskCompletionSource<string> Answer)>();
        ValueTask<string> RunsUntilSuperseded(string arguments, CancellationToken token)
        {
            var answer = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            token.UnsafeRegister(static answer => ((TaskCompletionSource<string>)answer!).TrySetResult("superseded"), answer);
            executions.Add((token, answer));
            return new ValueTask<string>(answer.Task);
        }

        var random = new Random(20261201);
        var cancels = new List<CancellationTokenSource>();
        var calls = new Task<string>[Windows];
        var leftAt = new bool[Windows];
        for (int i = 0; i < Windows; i++)
        {
            // Some callers cancel later, which walks their leave along the chain.
            CancellationTokenSource? cancel = random.Next(0, 100) == 0 ? new CancellationTokenSource() : null;
            if (cancel is not null)
            {
                cancels.Add(cancel);
            }

            calls[i] = windows.JoinAsync("k", "m" + i, null, RunsUntilSuperseded, cancel?.Token ?? CancellationToken.None);
            leftAt[i] = cancel is not null;
            _time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(Windows, executions.Count);
        cancels.ForEach(cancel => cancel.Cancel());
        var last = executions[^1];
        Assert.False(last.Token.IsCancellationRequested);
        last.Answer.SetResult("answer to the chain");

        for (int i = 0; i < Windows; i++)
        {
            if (leftAt[i])
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => calls[i].Within());
            }
            else
            {
                Assert.Equal("answer to the chain", await calls[i].Within());
            }
        }

        cancels.ForEach(cancel => cancel.Dispose());
        await Eventually.Until(() => windows.Count == 0, "every superseded execution has ended");
    }

    [Fact]
    public async Task Calls_every_window_length_with_random_cancels_all_end_and_nothing_leaks()
    {
        // Bursts of calls at random moments on a 100 ms fixed window with supersede; executions answer at random.
        const int Steps = 3000;
        var random = new Random(20261202);
        var windows = new MergeWindow<string>(_time, 100, MergeMode.Fixed, 0, supersede: true);
        var calls = new List<(Task<string> Call, CancellationTokenSource? Cancel)>();
        for (int step = 0; step < Steps; step++)
        {
            switch (random.Next(0, 4))
            {
                case 0:
                    var cancel = random.Next(0, 3) == 0 ? new CancellationTokenSource() : null;
                    calls.Add((windows.JoinAsync("k" + random.Next(0, 3), "s" + step, null, Execute, cancel?.Token ?? CancellationToken.None), cancel));
                    break;
                case 1:
                    _time.Advance(TimeSpan.FromMilliseconds(random.Next(1, 60)));
                    break;
                case 2:
                    if (_executions.TryDequeue(out var execution))
                    {
                        execution.Answer.TrySetResult("answer to " + execution.Arguments);
                    }

                    break;
                default:
                    var candidates = calls.Where(c => c.Cancel is { IsCancellationRequested: false }).ToList();
                    if (candidates.Count > 0)
                    {
                        candidates[random.Next(candidates.Count)].Cancel!.Cancel();
                    }

                    break;
            }
        }

        // Drain: close every window and answer every execution still running.
        for (int round = 0; round < 100 && calls.Any(c => !c.Call.IsCompleted); round++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            while (_executions.TryDequeue(out var execution))
            {
                execution.Answer.TrySetResult("answer to " + execution.Arguments);
            }

            await Task.Yield();
        }

        foreach ((Task<string> call, CancellationTokenSource? cancel) in calls)
        {
            if (cancel is { IsCancellationRequested: true })
            {
                // Cancelled after its execution answered, or left: either way its wait has ended.
                Exception? ended = await Record.ExceptionAsync(() => call.Within());
                Assert.True(ended is null or OperationCanceledException, ended?.ToString());
            }
            else
            {
                Assert.StartsWith("answer to ", await call.Within());
            }

            cancel?.Dispose();
        }

        await Eventually.Until(() => windows.Count == 0, "every execution has ended");
    }
}
