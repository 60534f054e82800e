using System;
using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using LlmGuard.Caching;

namespace LlmGuard.Benchmarks;

/// <summary>
/// The semantic cache's search: one lookup among 10,000 stored texts of one scope (the worst case, a user or tenant
/// whose every question is kept), at the dimensions of common embedding models: 384 (all-MiniLM-L6-v2) and 1536
/// (text-embedding-3-small). Every lookup compares against every unexpired entry, so its cost grows with entries ×
/// dimensions; the query is unrelated to the entries, so it is a miss, which scans as much as a hit.
/// </summary>
[MemoryDiagnoser]
public class SemanticLookupBenchmarks
{
    private const int Entries = 10_000;
    private const string Scope = "support:acme:";
    private const long Now = 1_000;

    private SemanticStore<string> _store = null!;
    private float[] _query = null!;

    [Params(384, 1536)]
    public int Dimensions { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _store = new SemanticStore<string>(maxEntries: Entries);
        for (int i = 0; i < Entries; i++)
        {
            _store.Add(Scope, RandomUnitVector(random), "answer " + i, tokens: 500, expiresAt: long.MaxValue, now: Now);
        }

        _query = RandomUnitVector(random);
    }

    [Benchmark(Description = "semantic lookup, 10,000 entries in one scope")]
    public bool Lookup() => _store.Find(Scope, _query, threshold: 0.92f, Now) is not null;

    private float[] RandomUnitVector(Random random)
    {
        var vector = new float[Dimensions];
        for (int i = 0; i < vector.Length; i++)
        {
            vector[i] = (float)((random.NextDouble() * 2) - 1);
        }

        TensorPrimitives.Divide(vector, TensorPrimitives.Norm(vector), vector);
        return vector;
    }
}
