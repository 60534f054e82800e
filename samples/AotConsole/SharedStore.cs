using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace AotConsole;

/// <summary>
/// Stands in for the Redis two service instances share, inside one process. It delegates to a
/// <see cref="MemoryDistributedCache"/>, but as a type of its own: HybridCache ignores a <see cref="MemoryDistributedCache"/>
/// as its second level, since in one process it would only duplicate the memory level.
/// </summary>
internal sealed class SharedStore : IDistributedCache
{
    private readonly MemoryDistributedCache _store = new(Options.Create(new MemoryDistributedCacheOptions()));

    public byte[]? Get(string key) => _store.Get(key);

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) => _store.GetAsync(key, token);

    public void Refresh(string key) => _store.Refresh(key);

    public Task RefreshAsync(string key, CancellationToken token = default) => _store.RefreshAsync(key, token);

    public void Remove(string key) => _store.Remove(key);

    public Task RemoveAsync(string key, CancellationToken token = default) => _store.RemoveAsync(key, token);

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => _store.Set(key, value, options);

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        _store.SetAsync(key, value, options, token);
}
