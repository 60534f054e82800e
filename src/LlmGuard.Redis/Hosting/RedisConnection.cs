using System;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace LlmGuard.Redis;

/// <summary>
/// The one connection an instance's Redis services share (flights, budgets, the cache's second level): the one
/// <see cref="LlmGuardRedisOptions.Configuration"/> opens, or the application's own.
/// </summary>
internal sealed class RedisConnection : IDisposable, IAsyncDisposable
{
    private readonly bool _owned;

    private RedisConnection(IConnectionMultiplexer multiplexer, bool owned)
    {
        Multiplexer = multiplexer;
        _owned = owned;
    }

    public IConnectionMultiplexer Multiplexer { get; }

    public static RedisConnection Create(IServiceProvider services)
    {
        LlmGuardRedisOptions options = services.GetRequiredService<IOptions<LlmGuardRedisOptions>>().Value;
        if (options.Configuration is { } configuration)
        {
            // abortConnect=false: an instance that starts while Redis is down still starts, runs locally, and
            // shares once the multiplexer reconnects on its own.
            ConfigurationOptions parsed = ConfigurationOptions.Parse(configuration);
            parsed.AbortOnConnectFail = false;
            return new RedisConnection(ConnectionMultiplexer.Connect(parsed), owned: true);
        }

        return new RedisConnection(services.GetRequiredService<IConnectionMultiplexer>(), owned: false);
    }

    // Both, so that a container disposed with Dispose() (a console app's `using var`) closes the connection too.
    public void Dispose()
    {
        if (_owned)
        {
            Multiplexer.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_owned)
        {
            await Multiplexer.DisposeAsync().ConfigureAwait(false);
        }
    }
}
