using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Redis.Leases;
using LlmGuard.Redis.Results;
using LlmGuard.Redis.Tests.Results;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Infrastructure;

/// <summary>The lease and the result channel while Redis is away: each test stops its own server, so it has one to itself.</summary>
public sealed class RedisOutageTests : IAsyncLifetime
{
    private readonly RedisServer _server = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public Task DisposeAsync() => _server.DisposeAsync();

    [Fact]
    public async Task Releasing_while_redis_is_down_returns_within_the_release_timeout_without_throwing()
    {
        TimeSpan releaseTimeout = TimeSpan.FromMilliseconds(300);
        await using ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(_server.ConfigurationWithLongTimeouts);
        var leases = new RedisLeases(connection, "test:", TimeSpan.FromSeconds(5), releaseTimeout, TimeProvider.System);
        RedisLease? lease = await leases.TryAcquireAsync("key", CancellationToken.None);
        Assert.NotNull(lease);

        await _server.StopAsync();
        Stopwatch releasing = Stopwatch.StartNew();
        await lease.DisposeAsync();

        // The connection's own command timeout is 20 s: returning well before it shows the release timeout applied.
        Assert.True(releasing.Elapsed < TimeSpan.FromSeconds(5), $"release took {releasing.Elapsed}");
    }

    [Fact]
    public async Task A_follower_waiting_while_redis_is_down_gives_up_within_the_redis_timeout()
    {
        TimeSpan bound = TimeSpan.FromMilliseconds(300);
        await using ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(_server.ConfigurationWithLongTimeouts);
        var channel = new RedisResultChannel(connection, "test:", TimeSpan.FromMinutes(1), TimeSpan.FromMilliseconds(50), bound, TimeProvider.System);
        await _server.StopAsync();

        Stopwatch waiting = Stopwatch.StartNew();
        await Assert.ThrowsAsync<TimeoutException>(() => channel.WaitAsync("key", "test:lease:key", ResultJsonContext.Default.Answer, new LeaderWitness(), TimeSpan.FromMinutes(1), CancellationToken.None, CancellationToken.None));

        // The connection's own command timeout is 20 s: the wait ends at the Redis timeout, not at the connection's.
        Assert.True(waiting.Elapsed < TimeSpan.FromSeconds(5), $"the wait took {waiting.Elapsed}");
    }
}
