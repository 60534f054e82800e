using System;
using System.Buffers;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace LlmGuard.Benchmarks;

/// <summary>
/// A call answered from the exact cache (<c>[Guarded(CacheSeconds = …)]</c>) against a hit on the same
/// <see cref="HybridCache"/> alone, for a typical key (a user and a question) and for a long multi-line prompt; and
/// the key hashing that lets any prompt be a cache key.
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class CacheBenchmarks
{
    private const string Typical = "typical key (user + question, 100 chars)";
    private const string Long = "long prompt key (4 KB, multi-line)";
    private const string Hashing = "key hashing alone (a key not seen before)";
    private const string Answer = "Open Settings, then Security, then Reset password; the link in the email is valid for an hour.";

    // What the HybridCache rows' factory returns: the setup fails if any of them is not a hit.
    private const string Missed = "not in the cache";

    // Scene, the guarded method's version hash, then a SHA-256 hex: the shape of the keys LlmGuard stores under.
    private const string Prefix = "llmguard:support:30079b5d9a572a9e:";

    private static readonly HybridCacheEntryOptions s_entry = new() { Expiration = TimeSpan.FromHours(1), LocalCacheExpiration = TimeSpan.FromHours(1) };

    private readonly string _userId = "user-4821";
    private readonly string _question = "how do I reset my password when the email with the reset link never arrives in my inbox?";

    // A support prompt as a team builds one: instructions, then the ticket's conversation, 4 KB over many lines.
    private readonly string _prompt = "You are the support assistant of an online shop. Answer in two sentences.\n"
        + string.Concat(Enumerable.Range(1, 45).Select(static turn => $"customer ({turn:D2}): my parcel 7731-{turn:D4} has not arrived, the tracking page says 'in transit'\n"));

    private ServiceProvider? _services;
    private HybridCache _cache = null!;
    private CachedDesk _desk = null!;
    private string _typicalGuardKey = null!;
    private string _longGuardKey = null!;
    private string _typicalKey = null!;
    private string _longKey = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        if (_prompt.Length is < 3_900 or > 4_300)
        {
            throw new InvalidOperationException($"The long prompt is {_prompt.Length} characters, not about 4 KB.");
        }

        _services = new ServiceCollection().AddHybridCache().Services.BuildServiceProvider();
        _cache = _services.GetRequiredService<HybridCache>();
        _desk = new CachedDesk(new GuardRuntime { HybridCache = _cache });

        _typicalGuardKey = _userId + ":" + _question;
        _longGuardKey = _userId + ":" + _prompt;
        _typicalKey = HashKey(_typicalGuardKey);
        _longKey = HashKey(_longGuardKey);
        await _cache.SetAsync(_typicalKey, Answer, s_entry);
        await _cache.SetAsync($"support:{_userId}:{_question}", Answer, s_entry);
        await _cache.SetAsync(_longKey, Answer, s_entry);

        // The first call of each guarded method executes and stores; every measured call must be answered by the cache.
        await _desk.AskAsync(_userId, _question, CancellationToken.None);
        await _desk.SummarizeAsync(_userId, _prompt, CancellationToken.None);
        if (await HybridCacheHit() != Answer || await HybridCacheHitInterpolatedKey() != Answer || await HybridCacheHitLongKey() != Answer
            || await GuardedHit() != Answer || await GuardedHitLongKey() != Answer || _desk.Executions != 2)
        {
            throw new InvalidOperationException($"The benchmark's calls are not cache hits ({_desk.Executions} executions).");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _services?.Dispose();

    [BenchmarkCategory(Typical)]
    [Benchmark(Baseline = true, Description = "HybridCache hit alone")]
    public ValueTask<string> HybridCacheHit() =>
        _cache.GetOrCreateAsync(_typicalKey, static _ => new ValueTask<string>(Missed), s_entry);

    // What a team writes without LlmGuard for this short key: an interpolated key per call (one that would collide for
    // ("a:b", "c") and ("a", "b:c"), and that HybridCache would skip once a prompt makes it long), then the hit.
    [BenchmarkCategory(Typical)]
    [Benchmark(Description = "HybridCache hit, interpolated key built per call")]
    public ValueTask<string> HybridCacheHitInterpolatedKey() =>
        _cache.GetOrCreateAsync($"support:{_userId}:{_question}", static _ => new ValueTask<string>(Missed), s_entry);

    [BenchmarkCategory(Typical)]
    [Benchmark(Description = "LlmGuard [Guarded(CacheSeconds)] hit")]
    public Task<string> GuardedHit() => _desk.AskAsync(_userId, _question, CancellationToken.None);

    [BenchmarkCategory(Long)]
    [Benchmark(Baseline = true, Description = "HybridCache hit alone")]
    public ValueTask<string> HybridCacheHitLongKey() =>
        _cache.GetOrCreateAsync(_longKey, static _ => new ValueTask<string>(Missed), s_entry);

    [BenchmarkCategory(Long)]
    [Benchmark(Description = "LlmGuard [Guarded(CacheSeconds)] hit")]
    public Task<string> GuardedHitLongKey() => _desk.SummarizeAsync(_userId, _prompt, CancellationToken.None);

    [BenchmarkCategory(Hashing)]
    [Benchmark(Baseline = true, Description = "SHA-256 cache key of the typical key")]
    public string HashTypicalKey() => HashKey(_typicalGuardKey);

    [BenchmarkCategory(Hashing)]
    [Benchmark(Description = "SHA-256 cache key of the 4 KB prompt key")]
    public string HashLongKey() => HashKey(_longGuardKey);

    // ResultCache.KeyFor is internal and this project sees no internals: the same public calls in the same order
    // (UTF-8 bytes on the stack or in a rented array, SHA-256, lowercase hex written in place after the prefix), as
    // KeyFor runs them for a key it does not remember; the guarded rows repeat their keys, which it remembers.
    private static string HashKey(string guardKey) =>
        string.Create(Prefix.Length + (2 * SHA256.HashSizeInBytes), guardKey, static (key, guardKey) =>
        {
            Prefix.CopyTo(key);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            if (guardKey.Length <= 512 / 3)
            {
                Span<byte> bytes = stackalloc byte[512];
                SHA256.HashData(bytes[..Encoding.UTF8.GetBytes(guardKey, bytes)], hash);
            }
            else
            {
                byte[] rented = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetByteCount(guardKey));
                SHA256.HashData(rented.AsSpan(0, Encoding.UTF8.GetBytes(guardKey, rented)), hash);
                ArrayPool<byte>.Shared.Return(rented);
            }

            Convert.TryToHexStringLower(hash, key[Prefix.Length..], out _);
        });
}

/// <summary>The benchmark's cached methods, on a runtime whose HybridCache comes from <c>AddHybridCache()</c>.</summary>
public partial class CachedDesk(GuardRuntime runtime)
{
    private const string Answer = "Open Settings, then Security, then Reset password; the link in the email is valid for an hour.";

    private int _executions;

    public int Executions => Volatile.Read(ref _executions);

    [Guarded(Scene = "support", CacheSeconds = 3_600, TimeoutMs = 30_000, MaxRetries = 2, RetryDelayMs = 200)]
    public partial Task<string> AskAsync([CachePartition] string userId, string question, CancellationToken cancellationToken);

    [Guarded(Scene = "summary", CacheSeconds = 3_600, TimeoutMs = 30_000, MaxRetries = 2, RetryDelayMs = 200)]
    public partial Task<string> SummarizeAsync([CachePartition] string userId, string prompt, CancellationToken cancellationToken);

    private Task<string> AskCoreAsync(string userId, string question, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _executions);
        return Task.FromResult(Answer);
    }

    private Task<string> SummarizeCoreAsync(string userId, string prompt, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _executions);
        return Task.FromResult(Answer);
    }
}
