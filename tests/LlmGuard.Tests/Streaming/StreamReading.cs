using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace LlmGuard.Tests.Streaming;

/// <summary>Reads guarded streams in tests, every wait bounded so that a broken stream fails the test instead of hanging it.</summary>
internal static class StreamReading
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Waits until no upstream of <paramref name="runtime"/> runs: one whose consumers all left ends on its own thread,
    /// after they returned.
    /// </summary>
    public static void WaitUntilNothingInFlight(GuardRuntime runtime) =>
        Assert.True(System.Threading.SpinWait.SpinUntil(() => runtime.InFlightCount == 0, Bound), "An upstream still runs.");

    public static async Task<List<T>> ReadAllAsync<T>(IAsyncEnumerable<T> stream)
    {
        var items = new List<T>();
        await foreach (T item in stream)
        {
            items.Add(item);
        }

        return items;
    }

    public static async Task<List<T>> TakeAsync<T>(IAsyncEnumerator<T> consumer, int count)
    {
        var items = new List<T>();
        for (int i = 0; i < count; i++)
        {
            Assert.True(await consumer.MoveNextAsync().AsTask().WaitAsync(Bound));
            items.Add(consumer.Current);
        }

        return items;
    }

    public static async Task<List<T>> RestAsync<T>(IAsyncEnumerator<T> consumer)
    {
        var items = new List<T>();
        while (await consumer.MoveNextAsync().AsTask().WaitAsync(Bound))
        {
            items.Add(consumer.Current);
        }

        return items;
    }
}
