using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Infrastructure;
using LlmGuard.Streaming;
using LlmGuard.Tests.Caching;
using static LlmGuard.Tests.Streaming.StreamReading;

namespace LlmGuard.Tests.Streaming;

/// <summary>A cached streaming method stores a completed stream whole in a real HybridCache, and never a partial one.</summary>
public sealed class StreamCacheTests : IDisposable
{
    private readonly CacheTestHost _host = new();
    private readonly ScriptedUpstream _upstream = new();

    [Fact]
    public async Task A_completed_stream_is_stored_whole_and_a_later_call_is_streamed_from_it_without_an_upstream()
    {
        GuardedStreamMethodState<string> state = State();
        Task<List<string>> first = ReadAllAsync(Stream(state, "k", _upstream));
        await _upstream.NextStartAsync();
        _upstream.Yield("a");
        _upstream.Yield("b");
        _upstream.Complete();
        Assert.Equal(["a", "b"], await first.WaitAsync(Bound));

        var unused = new ScriptedUpstream();
        Assert.Equal(["a", "b"], await ReadAllAsync(Stream(state, "k", unused)).WaitAsync(Bound));
        Assert.Equal((1, 0), (_upstream.Starts, unused.Starts));

        // Another key is not answered by it.
        var other = new ScriptedUpstream();
        Task<List<string>> otherKey = ReadAllAsync(Stream(state, "other", other));
        await other.NextStartAsync();
        other.Complete();
        Assert.Empty(await otherKey.WaitAsync(Bound));
    }

    [Fact]
    public async Task A_stream_interrupted_after_its_first_item_is_not_stored()
    {
        GuardedStreamMethodState<string> state = State();
        Task<List<string>> first = ReadAllAsync(Stream(state, "k", _upstream));
        await _upstream.NextStartAsync();
        _upstream.Yield("a");
        _upstream.Fail(new InvalidOperationException("reset"));
        await Assert.ThrowsAsync<LlmStreamInterruptedException>(() => first.WaitAsync(Bound));

        var next = new ScriptedUpstream();
        Task<List<string>> again = ReadAllAsync(Stream(state, "k", next));
        await next.NextStartAsync();
        next.Yield("z");
        next.Complete();
        Assert.Equal(["z"], await again.WaitAsync(Bound));
    }

    [Fact]
    public async Task A_stream_that_dropped_items_past_its_bound_is_not_stored()
    {
        GuardedStreamMethodState<string> state = State(replayItems: 2);
        await using IAsyncEnumerator<string> consumer = Stream(state, "k", _upstream).GetAsyncEnumerator();
        foreach (string item in new[] { "a", "b", "c" })
        {
            Task<List<string>> read = TakeAsync(consumer, 1);
            _upstream.Yield(item);
            Assert.Equal([item], await read);
        }

        _upstream.Complete();
        Assert.Empty(await RestAsync(consumer));

        var next = new ScriptedUpstream();
        Task<List<string>> again = ReadAllAsync(Stream(state, "k", next));
        await next.NextStartAsync();
        next.Complete();
        Assert.Empty(await again.WaitAsync(Bound));
        Assert.Equal(1, next.Starts);
    }

    [Fact]
    public async Task An_empty_stream_is_not_stored()
    {
        GuardedStreamMethodState<string> state = State();
        _upstream.Complete();
        Assert.Empty(await ReadAllAsync(Stream(state, "k", _upstream)).WaitAsync(Bound));

        var next = new ScriptedUpstream();
        Task<List<string>> again = ReadAllAsync(Stream(state, "k", next));
        await next.NextStartAsync();
        next.Yield("a");
        next.Complete();
        Assert.Equal(["a"], await again.WaitAsync(Bound));
    }

    [Fact]
    public async Task A_fallback_answer_is_not_stored()
    {
        GuardedStreamMethodState<string> state = State();
        List<string> answered = await ReadAllAsync(state.Stream("k", "k", Failing, Fallback, CancellationToken.None)).WaitAsync(Bound);
        Assert.Equal(["fallback"], answered);

        Task<List<string>> again = ReadAllAsync(Stream(state, "k", _upstream));
        await _upstream.NextStartAsync();
        _upstream.Yield("model");
        _upstream.Complete();
        Assert.Equal(["model"], await again.WaitAsync(Bound));

        static async IAsyncEnumerable<string> Failing(string arguments, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            throw new InvalidOperationException("the model failed");
#pragma warning disable CS0162 // An iterator needs a yield.
            yield break;
#pragma warning restore CS0162
        }

        static async IAsyncEnumerable<string> Fallback(string arguments, Exception failure, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await Task.Yield();
            yield return "fallback";
        }
    }

    public void Dispose() => _host.Dispose();

    private static IAsyncEnumerable<string> Stream(GuardedStreamMethodState<string> state, string key, ScriptedUpstream upstream) =>
        state.Stream(key, key, upstream.RunAsync, null, CancellationToken.None);

    private GuardedStreamMethodState<string> State(int replayItems = GuardedAttribute.DefaultStreamReplayItems) =>
        new GuardedStreamMethod<string>("stream_cache", 0, 0, 0, 0, replayItems: replayItems, cacheSeconds: 60, cacheVersion: "v1").For(_host.Runtime);
}
