using System;
using System.Text.Json.Serialization;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LlmGuard.Benchmarks.Redis;

[JsonSerializable(typeof(string))]
internal sealed partial class RedisBenchmarkJson : JsonSerializerContext;

/// <summary>The guarded method of the Redis benchmarks; its core is whatever model the benchmark hands it.</summary>
public sealed partial class FlightDesk(GuardRuntime runtime, Func<string, Task<string>> model)
{
    public const string Scene = "redis_bench";

    [Guarded(Scene = Scene, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> AskAsync(string question);

    private Task<string> AskCoreAsync(string question) => model(question);
}

/// <summary>Builds instances as an application does: a container each, with its own runtime and multiplexer.</summary>
internal static class RedisInstances
{
    /// <summary>An instance whose scene is Distributed over the Redis at <paramref name="configuration"/>, with the default bounds.</summary>
    public static ServiceProvider Distributed(string configuration, string keyPrefix) => Build(services =>
        services.AddLlmGuard(options => options.Scenes[FlightDesk.Scene] = new LlmSceneOptions { Distributed = true })
            .AddRedis(options =>
            {
                options.Configuration = configuration;
                options.TypeInfoResolver = RedisBenchmarkJson.Default;
                options.KeyPrefix = keyPrefix;
            }));

    /// <summary>The same scene on an instance without Redis: today's local singleflight.</summary>
    public static ServiceProvider Local() => Build(services => services.AddLlmGuard());

    private static ServiceProvider Build(Action<IServiceCollection> addLlmGuard)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        addLlmGuard(services);
        return services.BuildServiceProvider();
    }
}
