using System;
using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
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
    private const int HashHexLength = 2 * SHA256.HashSizeInBytes;

    // At most 64 keys of up to 1,024 characters (about 150 KB) per cached method; a longer key, a prompt, costs more to
    // compare and to hold than its hash saves.
    private const int RememberedKeySlots = 64;
    private const int MaxRememberedKeyLength = 1_024;
#if !NET9_0_OR_GREATER
    private const string LowerHexDigits = "0123456789abcdef";
#endif

    // Reads never write: a miss is answered by an execution, which stores only a success.
    private static readonly HybridCacheEntryOptions s_readOnly = new()
    {
        Flags = HybridCacheEntryFlags.DisableLocalCacheWrite | HybridCacheEntryFlags.DisableDistributedCacheWrite,
    };

    // An execution's second look is for the race inside this process: an execution here stored the answer between its
    // caller's miss and the flight, and such a store reaches memory first. An answer another process stored meanwhile is
    // not looked for again; at most one execution is the price of not reading the distributed level twice per miss.
    private static readonly HybridCacheEntryOptions s_readMemoryOnly = new()
    {
        Flags = HybridCacheEntryFlags.DisableLocalCacheWrite | HybridCacheEntryFlags.DisableDistributedCacheWrite | HybridCacheEntryFlags.DisableDistributedCacheRead,
    };

    private readonly HybridCache _cache;
    private readonly string _scene;
    private readonly ILogger? _logger;
    private readonly string _prefix;
    private readonly HybridCacheEntryOptions _store;
    private readonly RememberedKey?[] _remembered = new RememberedKey?[RememberedKeySlots];

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
        if (guardKey.Length > MaxRememberedKeyLength)
        {
            return Hash(guardKey);
        }

        // SHA-256 costs several times the HybridCache hit it leads to, and every hit repeats a key: the keys of the last
        // calls are remembered, one per slot, so a repeated key costs a string hash and a comparison. A slot holds a
        // key and its cache key in one object, so a reader never pairs one key with another's cache key.
        ref RememberedKey? slot = ref _remembered[SlotOf(guardKey)];
        if (Volatile.Read(ref slot) is { } remembered && string.Equals(remembered.GuardKey, guardKey, StringComparison.Ordinal))
        {
            return remembered.CacheKey;
        }

        string cacheKey = Hash(guardKey);
        Volatile.Write(ref slot, new RememberedKey(guardKey, cacheKey));
        return cacheKey;
    }

    // HashCode (xxHash32, seeded per process) reads a 100-character key in half the time of string.GetHashCode; a slot
    // only has to spread keys, since the comparison above decides.
    private static int SlotOf(string guardKey)
    {
        var hash = default(HashCode);
        hash.AddBytes(MemoryMarshal.AsBytes(guardKey.AsSpan()));
        return hash.ToHashCode() & (RememberedKeySlots - 1);
    }

    private string Hash(string guardKey) =>
        string.Create(_prefix.Length + HashHexLength, (Prefix: _prefix, GuardKey: guardKey), static (key, parts) =>
        {
            // Written in place into the one string a lookup needs: no hex string and no concatenation per call.
            parts.Prefix.CopyTo(key);
            // The key's UTF-16 code units as they are: a UTF-8 encoding would turn every lone surrogate (a prompt cut
            // inside an emoji) into U+FFFD, and two keys that differ only there would share an entry.
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(MemoryMarshal.AsBytes(parts.GuardKey.AsSpan()), hash);
            Span<char> hex = key[parts.Prefix.Length..];
#if NET9_0_OR_GREATER
            Convert.TryToHexStringLower(hash, hex, out _);
#else
            for (int i = 0; i < hash.Length; i++)
            {
                hex[2 * i] = LowerHexDigits[hash[i] >> 4];
                hex[(2 * i) + 1] = LowerHexDigits[hash[i] & 0xF];
            }
#endif
        });

    /// <summary>
    /// Reads the stored answer of <paramref name="cacheKey"/>; <see langword="null"/> when none is stored or the cache
    /// cannot be read. Only the caller's cancellation is thrown.
    /// </summary>
    /// <param name="cacheKey">The entry's key.</param>
    /// <param name="cancellationToken">The caller's or the execution's token.</param>
    /// <param name="memoryOnly">Whether to read only the memory level (an execution's second look).</param>
    public ValueTask<CachedAnswer<TResult>?> FindAsync(string cacheKey, CancellationToken cancellationToken, bool memoryOnly = false)
    {
        ValueTask<CachedAnswer<TResult>?> lookup;
        try
        {
            lookup = _cache.GetOrCreateAsync(
                cacheKey,
                static _ => new ValueTask<CachedAnswer<TResult>?>((CachedAnswer<TResult>?)null),
                memoryOnly ? s_readMemoryOnly : s_readOnly,
                tags: null,
                cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            ReadFailed(exception);
            return default;
        }

        return lookup.IsCompletedSuccessfully ? lookup : AwaitLookupAsync(lookup, cancellationToken);
    }

    private async ValueTask<CachedAnswer<TResult>?> AwaitLookupAsync(ValueTask<CachedAnswer<TResult>?> lookup, CancellationToken cancellationToken)
    {
        try
        {
            return await lookup.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            ReadFailed(exception);
            return null;
        }
    }

    // A cache that cannot be read costs this caller an execution, never its answer.
    private void ReadFailed(Exception exception)
    {
        if (_logger is not null)
        {
            CachingLog.CacheReadFailed(_logger, _scene, exception);
        }
    }

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

    private sealed record RememberedKey(string GuardKey, string CacheKey);
}
