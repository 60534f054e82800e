using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Infrastructure;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Infrastructure;

/// <summary>The singleflight on its own, with executions the test completes inline, so ordering is deterministic.</summary>
public sealed class SingleFlightUnitTests
{
    private readonly SingleFlight<string> _flights = new();

    // Completing one of these with CompleteInline runs the singleflight's own continuation before it returns.
    private static TaskCompletionSource<string> InlineExecution() => new(TaskCreationOptions.None);

    // xUnit runs tests under its own SynchronizationContext, which stops continuations from running inline.
    private static void CompleteInline(TaskCompletionSource<string> execution, string result)
    {
        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            execution.SetResult(result);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    [Fact]
    public async Task An_abandoned_execution_that_completes_late_removes_only_its_own_entry()
    {
        TaskCompletionSource<string> old = InlineExecution();
        TaskCompletionSource<string> newer = InlineExecution();
        using var leaving = new CancellationTokenSource();
        Task<string> abandoned = _flights.RunAsync("k", old, static (execution, _) => new ValueTask<string>(execution.Task), leaving.Token);
        leaving.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned.Within());

        Task<string> second = _flights.RunAsync("k", newer, static (execution, _) => new ValueTask<string>(execution.Task), CancellationToken.None);
        CompleteInline(old, "old");

        Assert.Equal(1, _flights.Count);
        Task<string> third = _flights.RunAsync("k", InlineExecution(), static (_, _) => throw new InvalidOperationException("must join the newer flight"), CancellationToken.None);
        newer.SetResult("new");
        Assert.Equal("new", await second.Within());
        Assert.Equal("new", await third.Within());
        Assert.Equal(0, _flights.Count);
    }

    [Fact]
    public async Task The_entry_is_gone_before_any_waiter_resumes()
    {
        TaskCompletionSource<string> execution = InlineExecution();
        Task<string> call = _flights.RunAsync("k", execution, static (e, _) => new ValueTask<string>(e.Task), CancellationToken.None);
        Task<int> countSeenOnResume = call.ContinueWith(_ => _flights.Count, TaskContinuationOptions.ExecuteSynchronously);

        execution.SetResult("done");

        Assert.Equal(0, await countSeenOnResume.Within());
    }

    [Fact]
    public async Task The_execution_token_is_cancelled_only_when_the_last_waiter_leaves()
    {
        CancellationToken executionToken = default;
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        Task<string> a = _flights.RunAsync("k", InlineExecution(), (e, token) => { executionToken = token; return new ValueTask<string>(e.Task); }, first.Token);
        Task<string> b = _flights.RunAsync("k", InlineExecution(), static (_, _) => throw new InvalidOperationException("must join"), second.Token);

        first.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.Within());
        Assert.False(executionToken.IsCancellationRequested);
        second.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b.Within());

        // A caller's cancellation completes only after it has left, so the last one has cancelled the execution.
        Assert.True(executionToken.IsCancellationRequested);
        Assert.Equal(0, _flights.Count);
    }

    [Fact]
    public async Task A_caller_that_cannot_cancel_keeps_the_execution_alive_whoever_else_leaves()
    {
        CancellationToken executionToken = default;
        TaskCompletionSource<string> execution = InlineExecution();
        using var leaving = new CancellationTokenSource();
        Task<string> staying = _flights.RunAsync("k", execution, (e, token) => { executionToken = token; return new ValueTask<string>(e.Task); }, CancellationToken.None);
        Task<string> left = _flights.RunAsync("k", execution, static (e, _) => new ValueTask<string>(e.Task), leaving.Token);

        leaving.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => left.Within());
        execution.SetResult("kept");

        Assert.False(executionToken.CanBeCanceled);
        Assert.Equal("kept", await staying.Within());
    }

    [Fact]
    public async Task A_wait_for_itself_through_another_guarded_method_is_refused()
    {
        var outer = new SingleFlight<string>();
        var inner = new SingleFlight<int>();

        Task<string> call = outer.RunAsync("k", (outer, inner), static async (flights, _) =>
        {
            int length = await flights.inner.RunAsync("inner", flights.outer, static async (o, _) =>
            {
                await Task.Yield();
                return (await o.RunAsync("k", 0, static (_, _) => ValueTask.FromResult("never"), CancellationToken.None)).Length;
            }, CancellationToken.None);
            return length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }, CancellationToken.None);

        GuardRecursionException failure = await Assert.ThrowsAsync<GuardRecursionException>(() => call.Within(1));
        Assert.Equal("k", failure.Key);
        Assert.Equal(0, outer.Count);
        Assert.Equal(0, inner.Count);
    }
}
