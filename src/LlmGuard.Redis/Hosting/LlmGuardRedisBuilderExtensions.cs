using System;
using System.Diagnostics.Metrics;
using LlmGuard.Distribution;
using LlmGuard.Hosting;
using LlmGuard.Redis.Budgets;
using LlmGuard.Redis.Caching;
using LlmGuard.Redis.Flights;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace LlmGuard.Redis;

/// <summary>Shares the executions of scenes with <c>Distributed</c> on across the instances of a deployment, through Redis.</summary>
public static class LlmGuardRedisBuilderExtensions
{
    /// <summary>
    /// Registers the Redis hook the runtime sends the executions of <c>Distributed</c> scenes through: one execution
    /// per key across every instance that uses the same Redis and <see cref="LlmGuardRedisOptions.KeyPrefix"/>. On the
    /// same connection it counts the token budgets over every instance (<see cref="LlmGuardRedisOptions.ShareBudgets"/>,
    /// on by default) and, with <see cref="LlmGuardRedisOptions.ShareCache"/>, gives HybridCache its second level.
    /// </summary>
    /// <param name="builder">The builder <c>AddLlmGuard()</c> returned.</param>
    /// <param name="configure">Sets the connection, the result contracts, the bounds and what is shared.</param>
    /// <remarks>
    /// The options are validated when the host starts (and when the hook is first resolved): positive TTLs, intervals
    /// and bounds, <see cref="LlmGuardRedisOptions.RedisTimeout"/> shorter than <see cref="LlmGuardRedisOptions.LeaseTtl"/>,
    /// a non-empty <see cref="LlmGuardRedisOptions.KeyPrefix"/>, and either <see cref="LlmGuardRedisOptions.Configuration"/>
    /// or a registered <see cref="IConnectionMultiplexer"/>. Logs go to the category <c>LlmGuard.Redis</c> (event ids
    /// 101 and up) and fallbacks to local execution are counted by <c>llmguard.redis.fallbacks</c> on the meter
    /// <c>LlmGuard.Redis</c>, through the registered <see cref="ILoggerFactory"/> and <see cref="IMeterFactory"/>.
    /// </remarks>
    /// <returns>The same builder.</returns>
    public static ILlmGuardBuilder AddRedis(this ILlmGuardBuilder builder, Action<LlmGuardRedisOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.AddOptions<LlmGuardRedisOptions>().Configure(configure).ValidateOnStart();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LlmGuardRedisOptions>, LlmGuardRedisOptionsValidator>());
        builder.Services.TryAddSingleton(RedisConnection.Create);
        builder.Services.TryAddSingleton<IDistributedFlights>(static services =>
        {
            LlmGuardRedisOptions options = services.GetRequiredService<IOptions<LlmGuardRedisOptions>>().Value;
            TimeProvider clock = services.GetService<TimeProvider>() ?? TimeProvider.System;
            ILoggerFactory? loggers = services.GetService<ILoggerFactory>();
            IMeterFactory? meters = services.GetService<IMeterFactory>();
            return new RedisDistributedFlights(services.GetRequiredService<RedisConnection>().Multiplexer, options, clock, loggers, meters);
        });

        // Null when budgets are not shared: the runtime then counts them on this instance alone.
        builder.Services.TryAddSingleton<IDistributedBudgets>(static services =>
        {
            LlmGuardRedisOptions options = services.GetRequiredService<IOptions<LlmGuardRedisOptions>>().Value;
            return options.ShareBudgets
                ? new RedisBudgets(services.GetRequiredService<RedisConnection>().Multiplexer, options.KeyPrefix, options.RedisTimeout, options.BudgetRefreshInterval)
                : null!;
        });
        RedisSecondLevelCache.Register(builder.Services);
        return builder;
    }
}
