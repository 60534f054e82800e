using System;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Logging;

namespace LlmGuard.Caching;

/// <summary>
/// The cache of one cached guarded method on one runtime: where its successful answers are stored in the runtime's
/// <see cref="HybridCache"/>, under which keys, and for how long.
/// </summary>
/// <typeparam name="TResult">The guarded method's result.</typeparam>
internal sealed class ResultCache<TResult>
{
    // Reads never write: a miss is answered by an execution, which stores only a success.
    private static readonly HybridCacheEntryOptions s_readOnly = new()
    {
        Flags = HybridCacheEntryFlags.DisableLocalCacheWrite | HybridCacheEntryFlags.DisableDistributedCacheWrite,
    };

    private readonly HybridCache _cache;
    private readonly string _scene;
    private readonly ILogger? _logger;
    private readonly string _prefix;
    private readonly HybridCacheEntryOptions _store;

    public ResultCache(HybridCache cache, string scene, string version, int seconds, ILogger? logger)
    {
        CachedAnswerSerializer<TResult>.Register();
        _cache = cache;
        _scene = scene;
        _logger = logger;
        _prefix = "llmguard:" + scene + ":" + version + ":";
        Seconds = seconds;
        var expiration = TimeSpan.FromSeconds(seconds);
        _store = new HybridCacheEntryOptions { Expiration = expiration, LocalCacheExpiration = expiration };
    }

    public int Seconds { get; }

    /// <summary>
    /// The cache key of a guard key: the scene and version, then a SHA-256 of the guard key, because HybridCache silently
    /// skips keys longer than 1,024 characters or with control characters, which a prompt-derived key easily has.
    /// </summary>
    public string KeyFor(string guardKey)
    {
        int length = Encoding.UTF8.GetByteCount(guardKey);
        byte[]? rented = null;
        Span<byte> bytes = length <= 512 ? stackalloc byte[512] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(length));
        try
        {
            int written = Encoding.UTF8.GetBytes(guardKey, bytes);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(bytes[..written], hash);
#if NET9_0_OR_GREATER
            return _prefix + Convert.ToHexStringLower(hash);
#else
            return _prefix + Convert.ToHexString(hash).ToLowerInvariant();
#endif
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Reads the stored answer of <paramref name="cacheKey"/>; <see langword="null"/> when none is stored.</summary>
    public ValueTask<CachedAnswer<TResult>?> FindAsync(string cacheKey, CancellationToken cancellationToken) =>
        _cache.GetOrCreateAsync(
            cacheKey,
            static _ => new ValueTask<CachedAnswer<TResult>?>((CachedAnswer<TResult>?)null),
            s_readOnly,
            tags: null,
            cancellationToken);

    /// <summary>Stores a successful answer; a cache that cannot store it leaves the answer to its callers unchanged.</summary>
    public async ValueTask StoreAsync(string cacheKey, TResult value, long tokens, ActivityContext origin)
    {
        try
        {
            // Not the execution's token: the answer exists, and storing it is worth finishing for the next caller.
            await _cache.SetAsync(cacheKey, new CachedAnswer<TResult>(value, tokens) { Origin = origin }, _store, tags: null, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // A failing distributed cache costs the next caller an execution, never this caller its answer.
            if (_logger is not null)
            {
                CachingLog.CacheStoreFailed(_logger, _scene, exception);
            }
        }
    }
}
