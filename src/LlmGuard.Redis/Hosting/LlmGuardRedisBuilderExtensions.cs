using System;
using System.Diagnostics.Metrics;
using LlmGuard.Distribution;
using LlmGuard.Hosting;
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
    /// per key across every instance that uses the same Redis and <see cref="LlmGuardRedisOptions.KeyPrefix"/>.
    /// </summary>
    /// <param name="builder">The builder <c>AddLlmGuard()</c> returned.</param>
    /// <param name="configure">Sets the connection, the result contracts and the bounds.</param>
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
        builder.Services.TryAddSingleton<IDistributedFlights>(static services =>
        {
            LlmGuardRedisOptions options = services.GetRequiredService<IOptions<LlmGuardRedisOptions>>().Value;
            TimeProvider clock = services.GetService<TimeProvider>() ?? TimeProvider.System;
            ILoggerFactory? loggers = services.GetService<ILoggerFactory>();
            IMeterFactory? meters = services.GetService<IMeterFactory>();
            if (options.Configuration is { } configuration)
            {
                // abortConnect=false: an instance that starts while Redis is down still starts, runs locally, and
                // shares executions once the multiplexer reconnects on its own.
                ConfigurationOptions parsed = ConfigurationOptions.Parse(configuration);
                parsed.AbortOnConnectFail = false;
                return new RedisDistributedFlights(ConnectionMultiplexer.Connect(parsed), ownsConnection: true, options, clock, loggers, meters);
            }

            return new RedisDistributedFlights(services.GetRequiredService<IConnectionMultiplexer>(), ownsConnection: false, options, clock, loggers, meters);
        });
        return builder;
    }
}
