using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Caching.Distributed;

namespace LlmGuard.Redis.Caching;

/// <summary>
/// The Redis cache with every asynchronous call bounded by the Redis timeout: HybridCache treats a read that throws as a
/// miss and a write that throws as not stored, so a slow or unreachable Redis costs a cached call at most the bound
/// rather than the connection's own timeouts.
/// </summary>
/// <remarks>
/// Only the <c>byte[]</c> API: a call given up on may still complete later, which is harmless for an array it returns,
/// but not for a buffer of HybridCache's it would write into. The synchronous methods, which HybridCache does not call,
/// are passed through unbounded. Disposing does not dispose the inner cache, which would close the shared connection.
/// </remarks>
internal sealed class BoundedDistributedCache(IDistributedCache inner, TimeSpan timeout) : IDistributedCache
{
    public byte[]? Get(string key) => inner.Get(key);

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) =>
        inner.GetAsync(key, token).WaitAsync(timeout, token);

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => inner.Set(key, value, options);

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        inner.SetAsync(key, value, options, token).WaitAsync(timeout, token);

    public void Refresh(string key) => inner.Refresh(key);

    public Task RefreshAsync(string key, CancellationToken token = default) =>
        inner.RefreshAsync(key, token).WaitAsync(timeout, token);

    public void Remove(string key) => inner.Remove(key);

    public Task RemoveAsync(string key, CancellationToken token = default) =>
        inner.RemoveAsync(key, token).WaitAsync(timeout, token);
}
