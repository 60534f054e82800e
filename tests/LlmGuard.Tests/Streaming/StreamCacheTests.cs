using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Infrastructure;
using LlmGuard.Streaming;
using LlmGuard.Tests.Caching;
using LlmGuard.Tests.Usage;
using Microsoft.Extensions.Caching.Hybrid;
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
    public async Task A_consumer_that_joins_while_the_answer_is_stored_is_counted_among_the_callers_it_answered()
    {
        var cache = new StoreHeldCache(_host.Cache);
        var sink = new CollectingSink();
        var runtime = new GuardRuntime(_host.Time) { HybridCache = cache, UsageSinks = [sink] };
        GuardedStreamMethodState<string> state = new GuardedStreamMethod<string>("stream_cache", 0, 0, 0, 0, cacheSeconds: 60, cacheVersion: "v1").For(runtime);
        Task<List<string>> first = ReadAllAsync(Stream(state, "k", _upstream));
        await _upstream.NextStartAsync();
        _upstream.Yield("a");
        _upstream.Complete();
        await cache.Storing.WaitAsync(Bound);

        // Not stored yet, so its first item can only come from the stream it joined.
        var unused = new ScriptedUpstream();
        await using IAsyncEnumerator<string> joined = Stream(state, "k", unused).GetAsyncEnumerator();
        Assert.Equal(["a"], await TakeAsync(joined, 1));

        cache.ReleaseStore();
        Assert.Equal(["a"], await first.WaitAsync(Bound));
        Assert.Empty(await RestAsync(joined));
        await runtime.Usage.FlushAsync().WaitAsync(Bound);
        Assert.Equal(2, Assert.Single(sink.Records).CallersAnswered);
        Assert.Equal(0, unused.Starts);
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

    /// <summary>A real HybridCache whose writes wait until released.</summary>
    private sealed class StoreHeldCache(HybridCache inner) : HybridCache
    {
        private readonly TaskCompletionSource _storing = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Storing => _storing.Task;

        public void ReleaseStore() => _release.TrySetResult();

        public override ValueTask<T> GetOrCreateAsync<TState, T>(
            string key,
            TState state,
            Func<TState, CancellationToken, ValueTask<T>> factory,
            HybridCacheEntryOptions? options = null,
            IEnumerable<string>? tags = null,
            CancellationToken cancellationToken = default) =>
            inner.GetOrCreateAsync(key, state, factory, options, tags, cancellationToken);

        public override async ValueTask SetAsync<T>(string key, T value, HybridCacheEntryOptions? options = null, IEnumerable<string>? tags = null, CancellationToken cancellationToken = default)
        {
            _storing.TrySetResult();
            await _release.Task;
            await inner.SetAsync(key, value, options, tags, cancellationToken);
        }

        public override ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default) => inner.RemoveAsync(key, cancellationToken);

        public override ValueTask RemoveByTagAsync(string tag, CancellationToken cancellationToken = default) => inner.RemoveByTagAsync(tag, cancellationToken);
    }

    private static IAsyncEnumerable<string> Stream(GuardedStreamMethodState<string> state, string key, ScriptedUpstream upstream) =>
        state.Stream(key, key, upstream.RunAsync, null, CancellationToken.None);

    private GuardedStreamMethodState<string> State(int replayItems = GuardedAttribute.DefaultStreamReplayItems) =>
        new GuardedStreamMethod<string>("stream_cache", 0, 0, 0, 0, replayItems: replayItems, cacheSeconds: 60, cacheVersion: "v1").For(_host.Runtime);
}
