using System;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Distribution;
using LlmGuard.Redis.Tests.Flights;
using LlmGuard.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Hosting;

/// <summary>An application that disposes its container with <c>Dispose()</c> (a console app's <c>using var</c>).</summary>
public sealed class ContainerDisposalTests(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_container_disposed_synchronously_closes_the_connection_AddRedis_opened()
    {
        string name = "disposal-" + Guid.NewGuid().ToString("N");
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddLlmGuard(options => options.Scenes[SharedAssistant.Scene] = new LlmSceneOptions { Distributed = true })
            .AddRedis(options =>
            {
                options.Configuration = server.Configuration + ",name=" + name;
                options.TypeInfoResolver = FlightJsonContext.Default;
            });
        ServiceProvider instance = services.BuildServiceProvider();
        _ = instance.GetRequiredService<IDistributedFlights>();
        await using ConnectionMultiplexer admin = await ConnectionMultiplexer.ConnectAsync(server.Configuration + ",allowAdmin=true");
        IServer redis = admin.GetServer(admin.GetEndPoints()[0]);
        Assert.Contains(await redis.ClientListAsync(), client => client.Name == name);

        instance.Dispose();

        await Processes.DeploymentProbe.UntilAsync(
            async () => !Array.Exists(await redis.ClientListAsync(), client => client.Name == name),
            s_bound,
            () => Task.FromResult("the instance's connection is still open"));
    }
}
