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

/// <summary>A merged execution runs in the ambient context of the call whose arguments it uses.</summary>
public sealed class AmbientContextTests
{
    private static readonly AsyncLocal<string?> s_caller = new();
    private readonly FakeTimeProvider _time = new();

    // Answers with its arguments and the ambient value it saw, at its start and after it yielded.
    private static async ValueTask<string> Observe(string arguments, CancellationToken token)
    {
        string atStart = s_caller.Value ?? "none";
        await Task.Yield();
        return $"{arguments} in {atStart}/{s_caller.Value ?? "none"}";
    }

    private Task<string> CallAs(MergeWindow<string> windows, string caller, string arguments, Func<IReadOnlyList<string>, string>? merge = null)
    {
        // An async local set here flows into the call only, as a request's would.
        s_caller.Value = caller;
        try
        {
            return windows.JoinAsync("k", arguments, merge, Observe, CancellationToken.None);
        }
        finally
        {
            s_caller.Value = null;
        }
    }

    [Fact]
    public async Task A_merged_execution_runs_in_the_context_of_the_latest_call_not_of_the_opener_or_the_clock()
    {
        var windows = new MergeWindow<string>(_time, 100, MergeMode.Fixed, 0, supersede: false);
        Task<string> first = CallAs(windows, "alice", "a");
        Task<string> latest = CallAs(windows, "bob", "b");

        s_caller.Value = "clock";
        _time.Advance(TimeSpan.FromMilliseconds(100));
        s_caller.Value = null;

        Assert.Equal("b in bob/bob", await first.Within());
        Assert.Equal("b in bob/bob", await latest.Within());
    }

    [Fact]
    public async Task With_merged_values_the_execution_still_runs_in_the_latest_callers_context()
    {
        var windows = new MergeWindow<string>(_time, 100, MergeMode.Fixed, 0, supersede: false);
        static string Merge(IReadOnlyList<string> calls) => string.Join("+", calls);
        Task<string> first = CallAs(windows, "alice", "a", Merge);
        Task<string> latest = CallAs(windows, "bob", "b", Merge);
        _time.Advance(TimeSpan.FromMilliseconds(100));

        Assert.Equal("a+b in bob/bob", await first.Within());
        Assert.Equal("a+b in bob/bob", await latest.Within());
    }

    [Fact]
    public async Task A_superseding_execution_runs_in_the_context_of_its_own_latest_call()
    {
        var windows = new MergeWindow<string>(_time, 100, MergeMode.Fixed, 0, supersede: true);
        var stale = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        int executions = 0;
        ValueTask<string> Execute(string arguments, CancellationToken token) =>
            Interlocked.Increment(ref executions) == 1 ? new ValueTask<string>(stale.Task.WaitAsync(token)) : Observe(arguments, token);

        s_caller.Value = "alice";
        Task<string> draft = windows.JoinAsync("k", "draft", null, Execute, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        s_caller.Value = "bob";
        Task<string> final = windows.JoinAsync("k", "final", null, Execute, CancellationToken.None);
        s_caller.Value = null;
        _time.Advance(TimeSpan.FromMilliseconds(100));

        Assert.Equal("final in bob/bob", await draft.Within());
        Assert.Equal("final in bob/bob", await final.Within());
        await Eventually.Until(() => windows.Count == 0, "the superseded execution has ended");
    }

    [Fact]
    public async Task Under_concurrent_joins_every_execution_sees_the_context_of_the_call_whose_arguments_it_uses()
    {
        // Real threads join with their own ambient value while a pump thread closes windows.
        const int Threads = 4, CallsPerThread = 500, Keys = 3;
        var windows = new MergeWindow<string>(_time, 2, MergeMode.Fixed, 0, supersede: false);
        var mismatches = new ConcurrentQueue<string>();
        int merged = 0;

        ValueTask<string> Check(string arguments, CancellationToken token)
        {
            if (s_caller.Value != arguments)
            {
                mismatches.Enqueue($"ran with {arguments} in the context of {s_caller.Value ?? "none"}");
            }

            return ValueTask.FromResult(arguments);
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

        var workers = Enumerable.Range(0, Threads).Select(thread => Task.Run(async () =>
        {
            var issued = new List<(string Arguments, Task<string> Call)>();
            for (int i = 0; i < CallsPerThread; i++)
            {
                string arguments = $"t{thread}c{i}";
                s_caller.Value = arguments;
                issued.Add((arguments, windows.JoinAsync("k" + (i % Keys), arguments, null, Check, CancellationToken.None)));
                s_caller.Value = null;
                if (i % 7 == 0)
                {
                    await Task.Yield();
                }
            }

            foreach ((string arguments, Task<string> call) in issued)
            {
                if (await call.Within(30) != arguments)
                {
                    Interlocked.Increment(ref merged);
                }
            }
        })).ToArray();

        await Task.WhenAll(workers).Within(60);
        done.Cancel();
        await pump.Within();

        Assert.Empty(mismatches);
        Assert.True(merged > 0, "no window merged two calls, so the test checked nothing");
    }
}
