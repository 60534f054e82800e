using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Caching;

namespace LlmGuard.Tests.Caching;

/// <summary>
/// The semantic cache's store on its own: the best entry at or above the threshold within one scope, expiry, the bound
/// with the oldest entry evicted first, and concurrent adds and lookups.
/// </summary>
public sealed class SemanticStoreTests
{
    private const long Now = 1_000_000;
    private const long Later = Now + 10_000;

    [Fact]
    public void The_most_similar_entry_at_or_above_the_threshold_answers()
    {
        var store = new SemanticStore<string>(maxEntries: 10);
        store.Add("scope", Vector(1, 0, 0), "x", tokens: 1, expiresAt: Later, now: Now);
        store.Add("scope", Vector(0.8f, 0.6f, 0), "close", tokens: 2, expiresAt: Later, now: Now);
        store.Add("scope", Vector(0, 1, 0), "y", tokens: 3, expiresAt: Later, now: Now);

        SemanticStore<string>.Entry? best = store.Find("scope", Vector(0.6f, 0.8f, 0), threshold: 0.9f, Now);

        // Cosine to (0.6, 0.8, 0): x 0.6, close 0.96, y 0.8.
        Assert.Equal("close", best?.Value);
        Assert.Equal(2, best?.Tokens);
        Assert.Null(store.Find("scope", Vector(0.6f, 0.8f, 0), threshold: 0.97f, Now));
    }

    [Fact]
    public void An_entry_of_another_scope_or_dimension_never_answers()
    {
        var store = new SemanticStore<string>(maxEntries: 10);
        store.Add("tenant a", Vector(1, 0, 0), "a", tokens: 0, expiresAt: Later, now: Now);

        Assert.Null(store.Find("tenant b", Vector(1, 0, 0), threshold: 0.5f, Now));
        Assert.Null(store.Find("tenant a", new float[] { 1, 0, 0, 0 }, threshold: 0.5f, Now));
        Assert.Equal("a", store.Find("tenant a", Vector(1, 0, 0), threshold: 0.5f, Now)?.Value);
    }

    [Fact]
    public void An_expired_entry_never_answers_and_is_dropped_at_the_next_add()
    {
        var store = new SemanticStore<string>(maxEntries: 10);
        store.Add("a", Vector(1, 0, 0), "old", tokens: 0, expiresAt: Now + 5, now: Now);
        store.Add("b", Vector(1, 0, 0), "old too", tokens: 0, expiresAt: Now + 5, now: Now);

        Assert.Null(store.Find("a", Vector(1, 0, 0), threshold: 0.5f, Now + 5));

        store.Add("a", Vector(0, 1, 0), "new", tokens: 0, expiresAt: Later, now: Now + 5);
        Assert.Equal(1, store.Count);
        Assert.Equal("new", store.Find("a", Vector(0, 1, 0), threshold: 0.5f, Now + 5)?.Value);
    }

    [Fact]
    public void Beyond_the_bound_the_oldest_entry_of_any_scope_is_evicted()
    {
        var store = new SemanticStore<string>(maxEntries: 2);
        store.Add("a", Vector(1, 0, 0), "first", tokens: 0, expiresAt: Later, now: Now);
        store.Add("b", Vector(1, 0, 0), "second", tokens: 0, expiresAt: Later, now: Now);
        store.Add("b", Vector(0, 1, 0), "third", tokens: 0, expiresAt: Later, now: Now);

        Assert.Equal(2, store.Count);
        Assert.Null(store.Find("a", Vector(1, 0, 0), threshold: 0.5f, Now));
        Assert.Equal("second", store.Find("b", Vector(1, 0, 0), threshold: 0.5f, Now)?.Value);
        Assert.Equal("third", store.Find("b", Vector(0, 1, 0), threshold: 0.5f, Now)?.Value);
    }

    [Fact]
    public void A_lowered_bound_evicts_the_excess_at_the_next_add()
    {
        var store = new SemanticStore<string>(maxEntries: 5);
        for (int i = 0; i < 5; i++)
        {
            store.Add("a", Vector(1, i, 0), "v" + i, tokens: 0, expiresAt: Later, now: Now);
        }

        store.MaxEntries = 2;
        store.Add("a", Vector(0, 0, 1), "last", tokens: 0, expiresAt: Later, now: Now);

        Assert.Equal(2, store.Count);
        Assert.Equal("last", store.Find("a", Vector(0, 0, 1), threshold: 0.99f, Now)?.Value);
        Assert.Equal("v4", store.Find("a", Vector(1, 4, 0), threshold: 0.99f, Now)?.Value);
    }

    [Fact]
    public async Task Concurrent_adds_and_lookups_keep_the_bound_and_answer_only_within_the_scope_under_stress()
    {
        const int MaxEntries = 50;
        const int Writers = 4;
        const int AddsPerWriter = 2_000;
        const int LookupsPerReader = 20_000;
        var store = new SemanticStore<string>(MaxEntries);
        int maxCountSeen = 0;

        Task[] writers = Enumerable.Range(0, Writers).Select(writer => Task.Run(() =>
        {
            var random = new Random(writer);
            for (int i = 0; i < AddsPerWriter; i++)
            {
                string scope = "scope" + random.Next(8);

                // Some entries expire while others are added, so expiry and the bound drop entries side by side.
                long now = Now + i;
                store.Add(scope, RandomVector(random), scope, tokens: i, expiresAt: now + random.Next(1, 200), now);
                int count = store.Count;
                int seen;
                while (count > (seen = Volatile.Read(ref maxCountSeen)) && Interlocked.CompareExchange(ref maxCountSeen, count, seen) != seen)
                {
                }
            }
        })).ToArray();

        Task[] readers = Enumerable.Range(0, 2).Select(reader => Task.Run(() =>
        {
            var random = new Random(100 + reader);
            for (int i = 0; i < LookupsPerReader; i++)
            {
                string scope = "scope" + random.Next(8);
                SemanticStore<string>.Entry? found = store.Find(scope, RandomVector(random), threshold: 0.1f, Now);
                Assert.True(found is null || found.Value == scope, $"A lookup in {scope} found an entry of {found?.Value}.");
            }
        })).ToArray();

        await Task.WhenAll(writers.Concat(readers)).WaitAsync(TimeSpan.FromSeconds(60));

        // One over the bound for an instant at most, read outside the lock: an add counts its entry before it evicts the oldest.
        Assert.InRange(maxCountSeen, 1, MaxEntries + 1);
        Assert.InRange(store.Count, 1, MaxEntries);
    }

    private static float[] Vector(float x, float y, float z) => [x, y, z];

    private static float[] RandomVector(Random random)
    {
        var vector = new float[16];
        for (int i = 0; i < vector.Length; i++)
        {
            vector[i] = (float)random.NextDouble();
        }

        return vector;
    }
}
