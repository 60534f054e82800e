using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading.Tasks;
using LlmGuard.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Flights;

/// <summary>
/// A leader that dies, stalls past its lease, or runs far longer than its lease, with followers on other instances.
/// </summary>
/// <remarks>
/// A lease expires on Redis's own clock, which a fake time provider cannot move: these instances use the real clock, a
/// 3 s lease and a 50 ms poll, and the tests wait on what Redis shows (bounded loops), never for a fixed time. A
/// follower's Redis step may take up to 2 s before it runs the execution locally: on a loaded test machine a shorter
/// bound let a slow poll, not the free lease, start the successor's execution.
/// </remarks>
public sealed class LeaderLossTests(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    // Renewals come every third of it: three seconds leave a loaded test machine room for a late one.
    private static readonly TimeSpan s_leaseTtl = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan s_redisTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_realBound = TimeSpan.FromSeconds(15);

    private readonly string _prefix = "test-" + Guid.NewGuid().ToString("N") + ":";
    private readonly OwnedResources _owned = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _owned.DisposeAsync().AsTask();

    [Fact]
    public async Task A_leader_that_dies_mid_execution_is_replaced_by_a_waiting_follower_once_its_lease_expires()
    {
        var model = new ScriptedModel();
        ConnectionMultiplexer dyingConnection = await server.ConnectAsync();
        _owned.Add(dyingConnection);
        FlightInstance dying = Instance(dyingConnection);
        FlightInstance follower = Instance();
        IDatabase redis = await AdminAsync();

        Task<string> abandoned = dying.Assistant(model).AskAsync("which plan");
        await model[0].Entered.WaitAsync(s_realBound);
        Task<string> following = follower.Assistant(model).AskAsync("which plan");
        await Followers.WaitingAsync(server, _prefix, 1, s_realBound);

        // The leader's process dies: its connection closes with no release, so no renewal reaches Redis again.
        RedisKey leaseKey = await SingleKeyAsync("lease:*");
        await dyingConnection.CloseAsync(allowCommandsToComplete: false);
        TimeSpan? remaining = await redis.KeyTimeToLiveAsync(leaseKey);
        Stopwatch sinceRemainingRead = Stopwatch.StartNew();
        Assert.NotNull(remaining);

        await model[1].Entered.WaitAsync(s_realBound);
        Assert.True(
            sinceRemainingRead.Elapsed >= remaining.Value - TimeSpan.FromMilliseconds(50),
            $"the follower ran after {sinceRemainingRead.Elapsed}, the dead leader's lease had {remaining.Value} left; " +
            $"it ran locally for: [{string.Join(", ", follower.FallbackReasons)}]");
        model[1].Answer("answered by the new leader");
        Assert.Equal("answered by the new leader", await following.WaitAsync(s_realBound));
        Assert.Empty(follower.FallbackReasons);

        // The dead leader's execution ends late: its own callers get its answer, and nothing it did reaches Redis.
        model[0].Answer("late answer");
        Assert.Equal("late answer", await abandoned.WaitAsync(s_realBound));
        Assert.Equal(2, model.Executions);
        Assert.Contains("answered by the new leader", (string?)await redis.StringGetAsync(await SingleKeyAsync("result:*")));
    }

    [Fact]
    public async Task A_leader_that_lost_its_lease_while_running_does_not_answer_its_successors_followers()
    {
        var model = new ScriptedModel();
        FlightInstance stalled = Instance();
        FlightInstance successor = Instance();
        FlightInstance follower = Instance();
        IDatabase redis = await AdminAsync();

        Task<string> stale = stalled.Assistant(model).AskAsync("which plan");
        await model[0].Entered.WaitAsync(s_realBound);
        Task<string> succeeding = successor.Assistant(model).AskAsync("which plan");
        await Followers.WaitingAsync(server, _prefix, 1, s_realBound);

        // The key vanishes under its holder, as it does when the holder stalls past the TTL: the waiting instance
        // finds neither a holder nor a result, takes the lease and runs the execution.
        Assert.True(await redis.KeyDeleteAsync(await SingleKeyAsync("lease:*")));
        await model[1].Entered.WaitAsync(s_realBound);
        Task<string> following = follower.Assistant(model).AskAsync("which plan");
        await Followers.WaitingAsync(server, _prefix, 1, s_realBound);

        model[0].Answer("stale answer");
        Assert.Equal("stale answer", await stale.WaitAsync(s_realBound));
        Assert.False(following.IsCompleted);

        model[1].Answer("fresh answer");
        Assert.Equal("fresh answer", await succeeding.WaitAsync(s_realBound));
        Assert.Equal("fresh answer", await following.WaitAsync(s_realBound));
        Assert.Equal(2, model.Executions);
        Assert.Empty(follower.FallbackReasons);
        Assert.Empty(successor.FallbackReasons);
    }

    [Fact]
    public async Task A_lease_outlived_by_a_long_execution_is_renewed_and_a_later_call_elsewhere_follows_it()
    {
        var model = new ScriptedModel();
        FlightInstance leader = Instance();
        FlightInstance later = Instance();
        IDatabase redis = await AdminAsync();

        Task<string> leading = leader.Assistant(model).AskAsync("which plan");
        await model[0].Entered.WaitAsync(s_realBound);
        RedisKey leaseKey = await SingleKeyAsync("lease:*");
        RedisValue owner = await redis.StringGetAsync(leaseKey);

        // Watch the lease's TTL go back up: each rise is a renewal. Three TTLs of real time and three renewals, with
        // the same owner throughout: without renewal the key would have expired three times over.
        Stopwatch held = Stopwatch.StartNew();
        int renewals = 0;
        TimeSpan previous = s_leaseTtl;
        while (held.Elapsed < 3 * s_leaseTtl || renewals < 3)
        {
            Assert.True(held.Elapsed < s_realBound, $"{renewals} renewals in {held.Elapsed}");
            TimeSpan? ttl = await redis.KeyTimeToLiveAsync(leaseKey);
            Assert.NotNull(ttl);
            renewals += ttl.Value > previous ? 1 : 0;
            previous = ttl.Value;
            Assert.Equal(owner, await redis.StringGetAsync(leaseKey));
            await Task.Delay(20);
        }

        Task<string> following = later.Assistant(model).AskAsync("which plan");
        await Followers.WaitingAsync(server, _prefix, 1, s_realBound);
        model[0].Answer("the yearly plan");

        Assert.Equal("the yearly plan", await leading.WaitAsync(s_realBound));
        Assert.Equal("the yearly plan", await following.WaitAsync(s_realBound));
        Assert.Equal(1, model.Executions);
    }

    private FlightInstance Instance(IConnectionMultiplexer? connection = null)
    {
        FlightInstance instance = FlightInstance.Create(
            TimeProvider.System,
            options =>
            {
                options.Configuration = connection is null ? server.Configuration : null;
                options.KeyPrefix = _prefix;
                options.LeaseTtl = s_leaseTtl;
                options.RedisTimeout = s_redisTimeout;
                options.PollInterval = TimeSpan.FromMilliseconds(50);
                options.FollowerWait = TimeSpan.FromSeconds(30);
            },
            connection);
        _owned.Add(instance);
        return instance;
    }

    private async Task<IDatabase> AdminAsync()
    {
        ConnectionMultiplexer admin = await server.ConnectAsync();
        _owned.Add(admin);
        return admin.GetDatabase();
    }

    // This test's prefix is its own: the one key of a kind under it is the flight's.
    private async Task<RedisKey> SingleKeyAsync(string pattern)
    {
        await using ConnectionMultiplexer admin = await server.ConnectAsync();
        IServer redis = admin.GetServer(admin.GetEndPoints()[0]);
        var keys = new List<RedisKey>();
        await foreach (RedisKey key in redis.KeysAsync(pattern: _prefix + pattern))
        {
            keys.Add(key);
        }

        return Assert.Single(keys);
    }
}
