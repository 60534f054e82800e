using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace LlmGuard.Redis.Tests.Infrastructure;

/// <summary>
/// What a test opened (instances, connections) and closes when it ends: the last opened first, so an instance closes
/// before the connection it was given.
/// </summary>
internal sealed class OwnedResources : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    /// <summary>Keeps <paramref name="resource"/> until the test ends.</summary>
    /// <typeparam name="T">The resource's type.</typeparam>
    /// <param name="resource">An instance or a connection the test opened.</param>
    /// <returns><paramref name="resource"/>.</returns>
    public T Add<T>(T resource)
        where T : IAsyncDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    public async ValueTask DisposeAsync()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }
    }
}
