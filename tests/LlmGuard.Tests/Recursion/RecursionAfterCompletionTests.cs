using System;
using System.Collections.Concurrent;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Infrastructure;
using LlmGuard.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Recursion;

/// <summary>
/// Background work a core started inherits the core's flow; once the execution has ended, its call for the same
/// key is an ordinary call, not a recursion.
/// </summary>
public sealed class RecursionAfterCompletionTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public async Task Background_work_that_calls_the_same_key_after_the_singleflight_execution_ended_starts_a_new_execution()
    {
        var flights = new SingleFlight<string>();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string>? background = null;
        int executions = 0;
        ValueTask<string> Execute(string arguments, CancellationToken token)
        {
            int execution = Interlocked.Increment(ref executions);
            if (execution == 1)
            {
                // Fire and forget: the core does not wait for it, so this is no recursion.
                background = Task.Run(async () =>
                {
                    await release.Task;
                    return await flights.RunAsync("k", "later", Execute, CancellationToken.None);
                });
            }

            return ValueTask.FromResult($"answer {execution} to {arguments}");
        }

        Assert.Equal("answer 1 to first", await flights.RunAsync("k", "first", Execute, CancellationToken.None).Within());
        release.SetResult();

        Assert.Equal("answer 2 to later", await background!.Within());
        Assert.Equal(2, executions);
    }

    [Fact]
    public async Task Background_work_that_calls_the_same_key_after_the_merged_execution_ended_opens_a_new_window()
    {
        var windows = new MergeWindow<string>(_time, 100, MergeMode.Fixed, 0, supersede: false);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task<string>? background = null;
        int executions = 0;
        ValueTask<string> Execute(string arguments, CancellationToken token)
        {
            int execution = Interlocked.Increment(ref executions);
            if (execution == 1)
            {
                background = Task.Run(async () =>
                {
                    await release.Task;
                    return await windows.JoinAsync("k", "later", null, Execute, CancellationToken.None);
                });
            }

            return ValueTask.FromResult($"answer {execution} to {arguments}");
        }

        Task<string> first = windows.JoinAsync("k", "first", null, Execute, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal("answer 1 to first", await first.Within());
        release.SetResult();
        await Eventually.Until(() => windows.Count == 1, "the background call has opened a window");
        _time.Advance(TimeSpan.FromMilliseconds(100));

        Assert.Equal("answer 2 to later", await background!.Within());
        Assert.Equal(2, executions);
    }

    [Fact]
    public async Task A_core_that_waits_for_background_work_calling_its_own_key_is_still_refused()
    {
        var flights = new SingleFlight<string>();
        async ValueTask<string> Execute(string arguments, CancellationToken token) =>
            await Task.Run(() => flights.RunAsync("k", "inner", Execute, token));

        await Assert.ThrowsAsync<GuardRecursionException>(() => flights.RunAsync("k", "outer", Execute, CancellationToken.None).Within());
        Assert.Equal(0, flights.Count);
    }

    [Fact]
    public async Task A_merged_execution_that_waits_for_a_call_to_its_own_key_is_still_refused()
    {
        var windows = new MergeWindow<string>(_time, 100, MergeMode.Fixed, 0, supersede: false);
        async ValueTask<string> Execute(string arguments, CancellationToken token) =>
            await Task.Run(() => windows.JoinAsync("k", "inner", null, Execute, token));

        Task<string> outer = windows.JoinAsync("k", "outer", null, Execute, CancellationToken.None);
        _time.Advance(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAsync<GuardRecursionException>(() => outer.Within());
    }

    [Fact]
    public async Task Background_calls_after_the_execution_at_random_moments_never_see_a_recursion_error()
    {
        // Each execution leaves background work that calls the same key once the outer call has its answer, after
        // a random number of yields; executions overlap on real threads.
        const int Executions = 300;
        var random = new Random(20261204);
        int[] yields = Enumerable.Range(0, Executions).Select(_ => random.Next(0, 4)).ToArray();
        var flights = new SingleFlight<string>();
        var failures = new ConcurrentQueue<Exception>();
        var backgrounds = new ConcurrentQueue<Task>();

        ValueTask<string> Execute((int Index, TaskCompletionSource Answered)? call, CancellationToken token)
        {
            if (call is { } outer)
            {
                backgrounds.Enqueue(Task.Run(async () =>
                {
                    await outer.Answered.Task;
                    for (int i = 0; i < yields[outer.Index]; i++)
                    {
                        await Task.Yield();
                    }

                    try
                    {
                        await flights.RunAsync<(int, TaskCompletionSource)?>("k" + (outer.Index % 3), null, Execute, CancellationToken.None);
                    }
                    catch (Exception exception)
                    {
                        failures.Enqueue(exception);
                    }
                }));
            }

            return ValueTask.FromResult("done");
        }

        await Task.WhenAll(Enumerable.Range(0, Executions).Select(index => Task.Run(async () =>
        {
            var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await flights.RunAsync("k" + (index % 3), ((int, TaskCompletionSource)?)(index, answered), Execute, CancellationToken.None);
            answered.SetResult();
        }))).Within(30);
        await Task.WhenAll(backgrounds).Within(30);

        Assert.Empty(failures);
    }
}
