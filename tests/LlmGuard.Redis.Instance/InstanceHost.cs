using System;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace LlmGuard.Redis.Instance;

/// <summary>What one instance is told: where Redis is, its name, and the bounds of its Redis steps.</summary>
public sealed record InstanceSettings(string Redis, string KeyPrefix, string Name)
{
    public TimeSpan LeaseTtl { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan FollowerWait { get; init; } = TimeSpan.FromSeconds(30);

    // Generous for a loaded test machine: the process tests are about sharing, not about Redis being slow.
    public TimeSpan RedisTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan HoldBound { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// Builds an instance as an application does: its own container, runtime and multiplexer, with
/// <c>AddLlmGuard().AddRedis(...)</c> and the shared scene turned Distributed.
/// </summary>
/// <remarks>The process tests compile this file too, so their in-process instances are configured like the processes.</remarks>
public static class InstanceHost
{
    public static async Task<ServiceProvider> StartAsync(InstanceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ConnectionMultiplexer redis = await ConnectionMultiplexer.ConnectAsync(settings.Redis).ConfigureAwait(false);
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        // Through a factory, so the container disposes the connection with the instance.
        services.AddSingleton<IConnectionMultiplexer>(_ => redis);
        services.AddSingleton(new CountingModel(redis, settings.KeyPrefix, settings.Name, settings.HoldBound));
        services.AddTransient<CountingAssistant>();
        services.AddLlmGuard(options => options.Scenes[CountingAssistant.Scene] = new LlmSceneOptions { Distributed = true })
            .AddRedis(options =>
            {
                // No Configuration: the hook uses the multiplexer registered above, as an application that already
                // has one does.
                options.TypeInfoResolver = InstanceJsonContext.Default;
                options.KeyPrefix = settings.KeyPrefix;
                options.LeaseTtl = settings.LeaseTtl;
                options.FollowerWait = settings.FollowerWait;
                options.RedisTimeout = settings.RedisTimeout;
            });
        return services.BuildServiceProvider();
    }
}
