using System;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Infrastructure;

/// <summary>The fixture the failure tests rely on: a real server that really goes away and really comes back.</summary>
public sealed class RedisServerTests : IAsyncLifetime
{
    private readonly RedisServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task A_stopped_server_fails_commands_and_a_restarted_one_serves_the_same_port_empty()
    {
        await using ConnectionMultiplexer connection = await _server.ConnectAsync();
        IDatabase database = connection.GetDatabase();
        Assert.True(await database.StringSetAsync("fixture", "before"));

        await _server.StopAsync();
        Exception failure = await Assert.ThrowsAnyAsync<Exception>(() => database.StringGetAsync("fixture"));
        Assert.True(failure is RedisConnectionException or RedisTimeoutException, failure.ToString());

        await _server.StartAsync();
        await using ConnectionMultiplexer again = await _server.ConnectAsync();
        Assert.True((await again.GetDatabase().StringGetAsync("fixture")).IsNull);
    }
}
