using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Redis.Leases;
using LlmGuard.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Leases;

/// <summary>The lease while Redis is away: each test stops its own server, so it has one to itself.</summary>
public sealed class RedisLeaseOutageTests : IAsyncLifetime
{
    private readonly RedisServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task Releasing_while_redis_is_down_returns_within_the_release_timeout_without_throwing()
    {
        TimeSpan releaseTimeout = TimeSpan.FromMilliseconds(300);
        await using ConnectionMultiplexer connection = await _server.ConnectAsync();
        var leases = new RedisLeases(connection, "test:", TimeSpan.FromSeconds(5), releaseTimeout);
        RedisLease? lease = await leases.TryAcquireAsync("key", CancellationToken.None);
        Assert.NotNull(lease);

        await _server.StopAsync();
        Stopwatch releasing = Stopwatch.StartNew();
        await lease.DisposeAsync();

        // The connection's own command timeout is 2 s: returning well before it shows the release timeout applied.
        Assert.True(releasing.Elapsed < TimeSpan.FromSeconds(1.5), $"release took {releasing.Elapsed}");
    }
}
