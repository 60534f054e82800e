using System.Threading.Tasks;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace LlmGuard.Redis.Caching;

/// <summary>
/// HybridCache's second level in Redis, for <see cref="LlmGuardRedisOptions.ShareCache"/>: the
/// Microsoft.Extensions.Caching.StackExchangeRedis cache on the instance's one connection, under the key prefix, each
/// call bounded by <see cref="LlmGuardRedisOptions.RedisTimeout"/>.
/// </summary>
/// <remarks>
/// The cache is registered under a service key, and HybridCache is pointed at it through
/// <see cref="HybridCacheOptions.DistributedCacheServiceKey"/>: the application's own <see cref="IDistributedCache"/>
/// (sessions, for instance) stays what it was. HybridCache resolves its second level when it is created, so the order
/// of <c>AddHybridCache()</c>, <c>AddLlmGuard()</c> and <c>AddRedis()</c> does not matter.
/// </remarks>
internal static class RedisSecondLevelCache
{
    /// <summary>The service key of the Redis <see cref="IDistributedCache"/>.</summary>
    public const string ServiceKey = "LlmGuard.Redis";

    public static void Register(IServiceCollection services)
    {
        services.TryAddKeyedSingleton<IDistributedCache>(ServiceKey, static (provider, _) =>
        {
            LlmGuardRedisOptions options = provider.GetRequiredService<IOptions<LlmGuardRedisOptions>>().Value;
            IConnectionMultiplexer connection = provider.GetRequiredService<RedisConnection>().Multiplexer;
            var cache = new RedisCache(Options.Create(new RedisCacheOptions
            {
                ConnectionMultiplexerFactory = () => Task.FromResult(connection),
                InstanceName = options.KeyPrefix + "cache:",
            }));
            return new BoundedDistributedCache(cache, options.RedisTimeout);
        });

        // A key the application chose for its HybridCache wins; without ShareCache nothing changes.
        services.AddOptions<HybridCacheOptions>().PostConfigure<IOptions<LlmGuardRedisOptions>>(static (hybrid, redis) =>
        {
            if (redis.Value.ShareCache)
            {
                hybrid.DistributedCacheServiceKey ??= ServiceKey;
            }
        });
    }
}
