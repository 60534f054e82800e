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

/// <summary>
/// A caller of a running execution that cancels while a new window supersedes that execution: only that caller
/// leaves; the others, and the new window's opener, get the newer answer.
/// </summary>
public sealed class SupersedeRaceTests
{
    private readonly FakeTimeProvider _time = new();

    // The first execution of a key runs until it is cancelled; later ones answer with their arguments.
    private static Func<string, CancellationToken, ValueTask<string>> FirstRunsUntilCancelled()
    {
        int executions = 0;
        return (arguments, token) => Interlocked.Increment(ref executions) == 1
            ? new ValueTask<string>(Task.Delay(Timeout.Infinite, token).ContinueWith(_ => "cancelled", TaskScheduler.Default))
            : ValueTask.FromResult("answer to " + arguments);
    }

    [Fact]
    public async Task A_caller_that_cancels_after_the_supersede_leaves_only_itself()
    {
        var windows = new MergeWindow<string>(_time, 100, MergeMode.Fixed, 0, supersede: true);
        var execute = FirstRunsUntilCancelled();
        using var leaving = new CancellationTokenSource();
        Task<string> c1 = windows.JoinAsync("k", "c1", null, execute, leaving.Token);
        Task<string> c2 = windows.JoinAsync("k", "c2", null, execute, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(100));

        Task<string> opener = windows.JoinAsync("k", "c3", null, execute, CancellationToken.None);
        leaving.Cancel();
        _time.Advance(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => c1.Within());
        Assert.Equal("answer to c3", await c2.Within());
        Assert.Equal("answer to c3", await opener.Within());
        await Eventually.Until(() => windows.Count == 0, "the superseded execution has ended");
    }

    [Fact]
    public async Task A_caller_that_cancels_just_before_the_supersede_leaves_only_itself()
    {
        var windows = new MergeWindow<string>(_time, 100, MergeMode.Fixed, 0, supersede: true);
        var execute = FirstRunsUntilCancelled();
        using var leaving = new CancellationTokenSource();
        Task<string> c1 = windows.JoinAsync("k", "c1", null, execute, leaving.Token);
        Task<string> c2 = windows.JoinAsync("k", "c2", null, execute, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(100));

        leaving.Cancel();
        Task<string> opener = windows.JoinAsync("k", "c3", null, execute, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => c1.Within());
        Assert.Equal("answer to c3", await c2.Within());
        Assert.Equal("answer to c3", await opener.Within());
        await Eventually.Until(() => windows.Count == 0, "the superseded execution has ended");
    }

    [Fact]
    public async Task When_every_taken_over_caller_and_the_opener_leave_the_new_window_never_runs()
    {
        var windows = new MergeWindow<string>(_time, 100, MergeMode.Fixed, 0, supersede: true);
        int executions = 0;
        ValueTask<string> Execute(string arguments, CancellationToken token)
        {
            Interlocked.Increment(ref executions);
            return new ValueTask<string>(Task.Delay(Timeout.Infinite, token).ContinueWith(_ => "cancelled", TaskScheduler.Default));
        }

        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        Task<string> c1 = windows.JoinAsync("k", "c1", null, Execute, first.Token);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Task<string> opener = windows.JoinAsync("k", "c2", null, Execute, second.Token);

        first.Cancel();
        Assert.False(opener.IsCompleted);
        second.Cancel();
        _time.Advance(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => c1.Within());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => opener.Within());
        Assert.Equal(1, executions);
        await Eventually.Until(() => windows.Count == 0, "the superseded execution has ended");
    }

    [Fact]
    public async Task Racing_cancels_against_a_supersede_never_cancels_the_callers_that_stay()
    {
        // Two real threads: one cancels the leaving callers of the running execution one after another, the other
        // opens the superseding window after a random spin, so leaves land before, inside and after the supersede.
        const int Iterations = 400, Leaving = 48;
        var random = new Random(20261201);
        var failures = new ConcurrentQueue<string>();
        var windowsUsed = new List<MergeWindow<string>>();
        using var start = new Barrier(3);
        using var done = new Barrier(3);
        CancellationTokenSource[] cancels = Array.Empty<CancellationTokenSource>();
        MergeWindow<string>? windows = null;
        Func<string, CancellationToken, ValueTask<string>>? execute = null;
        Task<string>? opener = null;
        int openerSpin = 0;
        bool stop = false;

        void Race(Action action)
        {
            while (start.SignalAndWait(TimeSpan.FromSeconds(10)) && !Volatile.Read(ref stop))
            {
                action();
                done.SignalAndWait(TimeSpan.FromSeconds(10));
            }
        }

        var canceller = new Thread(() => Race(() => Array.ForEach(cancels, cancel => cancel.Cancel())));
        var opening = new Thread(() => Race(() =>
        {
            Thread.SpinWait(openerSpin);
            opener = windows!.JoinAsync("k", "opener", null, execute!, CancellationToken.None);
        }));
        canceller.Start();
        opening.Start();

        for (int i = 0; i < Iterations; i++)
        {
            var time = new FakeTimeProvider();
            windows = new MergeWindow<string>(time, 100, MergeMode.Fixed, 0, supersede: true);
            windowsUsed.Add(windows);
            execute = FirstRunsUntilCancelled();
            cancels = Enumerable.Range(0, Leaving).Select(_ => new CancellationTokenSource()).ToArray();
            Task<string>[] leaving = cancels.Select(cancel => windows.JoinAsync("k", "leaving", null, execute, cancel.Token)).ToArray();
            Task<string> stays = windows.JoinAsync("k", "stays", null, execute, CancellationToken.None);
            time.Advance(TimeSpan.FromMilliseconds(100));
            openerSpin = random.Next(0, 400);

            Assert.True(start.SignalAndWait(TimeSpan.FromSeconds(10)));
            Assert.True(done.SignalAndWait(TimeSpan.FromSeconds(10)));
            time.Advance(TimeSpan.FromMilliseconds(100));

            foreach ((string name, Task<string> call) in new[] { ("a caller that stays", stays), ("the opener", opener!) })
            {
                try
                {
                    string answer = await call.Within();
                    if (answer != "answer to opener")
                    {
                        failures.Enqueue($"iteration {i}: {name} got '{answer}'");
                    }
                }
                catch (OperationCanceledException)
                {
                    failures.Enqueue($"iteration {i}: {name} was cancelled");
                }
            }

            foreach (Task<string> call in leaving)
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.Within());
            }

            Array.ForEach(cancels, cancel => cancel.Dispose());
        }

        Volatile.Write(ref stop, true);
        start.SignalAndWait(TimeSpan.FromSeconds(10));
        canceller.Join(TimeSpan.FromSeconds(10));
        opening.Join(TimeSpan.FromSeconds(10));

        Assert.Empty(failures);
        await Eventually.Until(() => windowsUsed.All(w => w.Count == 0), "every superseded execution has ended");
    }

    [Fact]
    public async Task A_wave_of_callers_that_cancel_at_random_while_windows_supersede_all_end_and_nothing_leaks()
    {
        // Real threads call two keys, a third of them cancelling at random moments, while a pump moves the clock:
        // windows close and supersede running executions, which last a few clock steps.
        const int Threads = 4, CallsPerThread = 1500;
        var time = new FakeTimeProvider();
        var windows = new MergeWindow<string>(time, 2, MergeMode.Fixed, 0, supersede: true);
        var failures = new ConcurrentQueue<string>();

        async ValueTask<string> Execute(string arguments, CancellationToken token)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(3), time, token);
            return arguments;
        }

        using var done = new CancellationTokenSource();
        var pump = Task.Run(() =>
        {
            while (!done.IsCancellationRequested)
            {
                time.Advance(TimeSpan.FromMilliseconds(1));
                Thread.Yield();
            }
        });

        var workers = Enumerable.Range(0, Threads).Select(thread => Task.Run(async () =>
        {
            var random = new Random(20261205 + thread);
            var issued = new List<(Task<string> Call, CancellationTokenSource? Cancel)>();
            for (int i = 0; i < CallsPerThread; i++)
            {
                var cancel = random.Next(0, 3) == 0 ? new CancellationTokenSource() : null;
                issued.Add((windows.JoinAsync("k" + random.Next(0, 2), $"t{thread}c{i}", null, Execute, cancel?.Token ?? CancellationToken.None), cancel));
                if (random.Next(0, 4) == 0 && issued[random.Next(issued.Count)].Cancel is { } leaving)
                {
                    leaving.Cancel();
                }

                if (random.Next(0, 5) == 0)
                {
                    await Task.Yield();
                }
            }

            issued.ForEach(call => call.Cancel?.Cancel());
            foreach ((Task<string> call, CancellationTokenSource? cancel) in issued)
            {
                Exception? ended = await Record.ExceptionAsync(() => call.Within(30));
                if (ended is TimeoutException)
                {
                    failures.Enqueue("a call never ended");
                }
                else if (cancel is null && ended is not null)
                {
                    failures.Enqueue("a caller that never cancelled got " + ended.GetType().Name);
                }

                cancel?.Dispose();
            }
        })).ToArray();

        await Task.WhenAll(workers).Within(90);
        await Eventually.Until(() => windows.Count == 0, "every execution has ended");
        done.Cancel();
        await pump.Within();

        Assert.Empty(failures);
    }
}
