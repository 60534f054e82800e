using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Infrastructure;
using LlmGuard.Streaming;
using LlmGuard.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;
using static LlmGuard.Tests.Streaming.StreamReading;

namespace LlmGuard.Tests.Streaming;

/// <summary>
/// The per-item path: consumers read published items without a lock, the upstream wakes only consumers that wait, and
/// the deadline timer is armed once per attempt and moved by each item.
/// </summary>
public sealed class StreamHotPathTests
{
    private readonly TimerAwareFakeTimeProvider _time = new();
    private readonly ScriptedUpstream _upstream = new();

    // Every read of the slow consumer finds its item in the window before the current one, as the buffer moves on.
    [Fact]
    public async Task A_consumer_the_bound_behind_reads_every_item_while_the_buffer_moves_through_several_windows()
    {
        GuardedStreamMethodState<string> state = State(replayItems: 3);
        await using IAsyncEnumerator<string> fast = Stream(state).GetAsyncEnumerator();
        await using IAsyncEnumerator<string> slow = Stream(state).GetAsyncEnumerator();
        Task<List<string>> slowFirst = TakeAsync(slow, 1);
        await YieldAndReadAsync(fast, "0");
        var slowItems = new List<string>(await slowFirst);
        var expected = new List<string> { "0" };
        for (int i = 1; i < 12; i++)
        {
            string item = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            expected.Add(item);
            await YieldAndReadAsync(fast, item);
            if (i >= 3)
            {
                // i + 1 items published, and the slow consumer's next is i - 2: exactly the bound behind.
                slowItems.AddRange(await TakeAsync(slow, 1));
            }
        }

        _upstream.Complete();
        slowItems.AddRange(await RestAsync(slow));

        Assert.Equal(expected, slowItems);
        Assert.Empty(await RestAsync(fast));
    }

    // Items wider than an atomic write catch a read of a slot being rewritten; consumers that catch up wait, so a wake-up
    // lost between publishing an item and a consumer starting to wait hangs a consumer until the bound below.
    [Fact]
    public async Task Consumers_on_real_threads_read_every_item_whole_and_in_order_or_overflow()
    {
        const int Items = 20_000;
        const int Consumers = 4;
        const int ReplayItems = 64;
        var method = new GuardedStreamMethod<Wide>("stream.hot-path", 0, 0, 0, 0, replayItems: ReplayItems);
        GuardedStreamMethodState<Wide> state = method.For(new GuardRuntime(new FakeTimeProvider()));
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int upstreams = 0;

        async IAsyncEnumerable<Wide> UpstreamAsync(int arguments, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref upstreams);
            await started.Task;
            for (long i = 0; i < Items; i++)
            {
                if (i % 97 == 0)
                {
                    // Consumers catch up now and then, so both the lock-free read and the wait are exercised.
                    await Task.Yield();
                }

                yield return new Wide(i, i, i);
            }
        }

        // Every consumer joins (on its first read) before the upstream yields, so all of them share it.
        var consumers = new IAsyncEnumerator<Wide>[Consumers];
        var firstReads = new Task<bool>[Consumers];
        for (int c = 0; c < Consumers; c++)
        {
            consumers[c] = state.Stream("k", 0, UpstreamAsync, null, CancellationToken.None).GetAsyncEnumerator();
            firstReads[c] = consumers[c].MoveNextAsync().AsTask();
        }

        started.TrySetResult();
        var readers = new Task<string?>[Consumers];
        for (int c = 0; c < Consumers; c++)
        {
            IAsyncEnumerator<Wide> consumer = consumers[c];
            Task<bool> firstRead = firstReads[c];
            var random = new Random(c);
            readers[c] = Task.Run(() => ReadAllCheckedAsync(consumer, firstRead, random, Items));
        }

        string?[] faults = await Task.WhenAll(readers).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.All(faults, Assert.Null);
        Assert.Equal(1, upstreams);
        foreach (IAsyncEnumerator<Wide> consumer in consumers)
        {
            await consumer.DisposeAsync();
        }
    }

    [Fact]
    public async Task Each_item_moves_the_idle_deadline_even_after_the_timer_armed_for_an_earlier_item_fired()
    {
        GuardedStreamMethodState<string> state = State(idleTimeoutMs: 500);
        await using IAsyncEnumerator<string> consumer = Stream(state).GetAsyncEnumerator();
        await YieldAndReadAsync(consumer, "a");
        await _time.WhenTimersScheduledAsync().WaitAsync(Bound);

        _time.Advance(TimeSpan.FromMilliseconds(400));
        await YieldAndReadAsync(consumer, "b");

        // 800 ms: the timer armed when "a" came fired at 500 ms, and must wait out the 500 ms that "b" started.
        _time.Advance(TimeSpan.FromMilliseconds(400));
        await YieldAndReadAsync(consumer, "c");
        _time.Advance(TimeSpan.FromMilliseconds(499));
        await YieldAndReadAsync(consumer, "d");
        _time.Advance(TimeSpan.FromMilliseconds(500));

        LlmStreamInterruptedException interrupted = await Assert.ThrowsAsync<LlmStreamInterruptedException>(() => RestAsync(consumer));
        Assert.IsType<TimeoutException>(interrupted.InnerException);
        Assert.Equal(4, interrupted.ItemsDelivered);
    }

    // Returns what went wrong, so a failure on a reader's thread reaches the test's assertion with its message.
    private static async Task<string?> ReadAllCheckedAsync(IAsyncEnumerator<Wide> consumer, Task<bool> firstRead, Random random, int items)
    {
        long read = 0;
        try
        {
            bool more = await firstRead;
            while (more)
            {
                Wide item = consumer.Current;
                if (item != new Wide(read, read, read))
                {
                    return $"item {read} read as {item}";
                }

                read++;
                if (random.Next(64) == 0)
                {
                    // Falls behind now and then: past the bound it overflows, which is a correct end too.
                    await Task.Yield();
                }

                more = await consumer.MoveNextAsync();
            }

            return read == items ? null : $"{read} items of {items}";
        }
        catch (LlmStreamOverflowException overflow)
        {
            return overflow.ItemsDelivered == read ? null : $"overflow after {overflow.ItemsDelivered} items, {read} read";
        }
    }

    private async Task YieldAndReadAsync(IAsyncEnumerator<string> consumer, string item)
    {
        Task<List<string>> next = TakeAsync(consumer, 1);
        _upstream.Yield(item);
        Assert.Equal([item], await next);
    }

    private IAsyncEnumerable<string> Stream(GuardedStreamMethodState<string> state) =>
        state.Stream("k", "k", _upstream.RunAsync, null, CancellationToken.None);

    private GuardedStreamMethodState<string> State(int idleTimeoutMs = 0, int replayItems = GuardedAttribute.DefaultStreamReplayItems) =>
        new GuardedStreamMethod<string>("hot-path", 0, idleTimeoutMs, 0, 0, replayItems: replayItems).For(new GuardRuntime(_time));

    private readonly record struct Wide(long A, long B, long C);
}
