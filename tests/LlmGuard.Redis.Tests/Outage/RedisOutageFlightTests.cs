using System;
using System.Diagnostics;
using System.Threading.Tasks;
using LlmGuard.Redis.Flights;
using LlmGuard.Redis.Telemetry;
using LlmGuard.Redis.Tests.Flights;
using LlmGuard.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Outage;

/// <summary>
/// Guarded calls of a Distributed scene while Redis is killed, slow, and restarted: each test has a server of its own.
/// The instances' clocks are fake: the Redis timeout, the polls and the circuit's backoff run only when a test moves
/// them, so a caller answered without a move did not wait for any of them.
/// </summary>
public sealed class RedisOutageFlightTests : IAsyncLifetime
{
    private static readonly TimeSpan s_redisTimeout = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan s_realBound = TimeSpan.FromSeconds(10);

    private readonly RedisServer _server = new();
    private readonly string _prefix = "test-" + Guid.NewGuid().ToString("N") + ":";
    private readonly OwnedResources _owned = new();

    public Task InitializeAsync() => _server.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _owned.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task Redis_killed_mid_flight_leaves_the_leader_and_its_follower_answered_locally_within_the_redis_timeout()
    {
        var model = new ScriptedModel();
        (FlightInstance leader, FakeTimeProvider leaderClock, _) = await InstanceAsync();
        (FlightInstance follower, _, _) = await InstanceAsync();
        Task<string> leading = leader.Assistant(model).AskAsync("which plan");
        await model[0].Entered.WaitAsync(s_realBound);
        Task<string> following = follower.Assistant(model).AskAsync("which plan");
        await Followers.WaitingAsync(_server, _prefix, 1, s_realBound);

        await _server.StopAsync();

        // The follower's connection reports the loss: it stops waiting and runs the execution itself, with no clock
        // moved, so neither its poll nor its bound nor a Redis timeout was needed.
        await model[1].Entered.WaitAsync(s_realBound);
        model[1].Answer("answered on the follower");
        Assert.Equal("answered on the follower", await following.WaitAsync(s_realBound));

        // The leader may not have heard of the loss yet (a connection that only sends finds out late): publishing its
        // result and releasing its lease each wait at most the Redis timeout on its clock, then its callers have the answer.
        DateTimeOffset answeredAt = leaderClock.GetUtcNow();
        model[0].Answer("answered on the leader");
        await AdvanceUntilCompletedAsync(leaderClock, leading, s_redisTimeout);
        Assert.Equal("answered on the leader", await leading);
        Assert.True(leaderClock.GetUtcNow() - answeredAt <= 2 * s_redisTimeout, $"the leader's clock moved {leaderClock.GetUtcNow() - answeredAt}");

        Assert.Equal([RedisFallbacks.Unreachable], follower.FallbackReasons);
        Assert.Empty(leader.FallbackReasons);
        Assert.Equal([101], follower.RedisEventIds);
        Assert.Equal([101], leader.RedisEventIds);
    }

    [Fact]
    public async Task With_redis_slow_one_call_pays_the_redis_timeout_and_the_next_ones_skip_redis_until_a_probe_succeeds()
    {
        var model = new ScriptedModel();
        for (int execution = 0; execution < 7; execution++)
        {
            model[execution].Answer("answer " + execution);
        }

        (FlightInstance instance, FakeTimeProvider clock, _) = await InstanceAsync();
        ConnectionMultiplexer admin = await ConnectionMultiplexer.ConnectAsync(_server.Configuration + ",allowAdmin=true");
        _owned.Add(admin);

        // Redis holds every write (taking a lease is one) for 1.5 s of real time, but still answers pings: the
        // connection stays up, Redis is only slow.
        await admin.GetServer(admin.GetEndPoints()[0]).ExecuteAsync("CLIENT", "PAUSE", "1500", "WRITE");

        Task<string> first = instance.Assistant(model).AskAsync("question 0");
        await AdvanceUntilCompletedAsync(clock, first, s_redisTimeout);
        Assert.Equal("answer 0", await first);
        Assert.Equal(1, model.Executions);

        // The circuit is open: these calls do not try Redis, so they end without the clock moving at all.
        for (int call = 1; call <= 5; call++)
        {
            Assert.Equal("answer " + call, await instance.Assistant(model).AskAsync("question " + call).WaitAsync(s_realBound));
        }

        // Once Redis takes writes again and the backoff has passed, the next call probes, succeeds, and closes the circuit.
        await admin.GetDatabase().StringSetAsync(_prefix + "writes-again", "1").WaitAsync(s_realBound);
        clock.Advance(RedisCircuit.InitialBackoff);
        Assert.Equal("answer 6", await instance.Assistant(model).AskAsync("question 6").WaitAsync(s_realBound));

        Assert.Equal(
            [RedisFallbacks.Timeout, RedisFallbacks.CircuitOpen, RedisFallbacks.CircuitOpen, RedisFallbacks.CircuitOpen, RedisFallbacks.CircuitOpen, RedisFallbacks.CircuitOpen],
            instance.FallbackReasons);
        Assert.Equal([101, 102], instance.RedisEventIds);
    }

    [Fact]
    public async Task Redis_restarted_after_an_outage_shares_executions_across_instances_again()
    {
        (FlightInstance first, FakeTimeProvider firstClock, ConnectionMultiplexer firstConnection) = await InstanceAsync();
        (FlightInstance second, FakeTimeProvider secondClock, ConnectionMultiplexer secondConnection) = await InstanceAsync();

        await _server.StopAsync();
        await WaitUntilAsync(() => first.RedisEventIds.Count == 1 && second.RedisEventIds.Count == 1, "both instances saw Redis go");
        var during = new ScriptedModel();
        during[0].Answer("answered locally");
        Assert.Equal("answered locally", await first.Assistant(during).AskAsync("during").WaitAsync(s_realBound));

        await _server.StartAsync();
        await WaitUntilAsync(() => firstConnection.IsConnected && secondConnection.IsConnected, "both instances reconnected");
        firstClock.Advance(RedisCircuit.InitialBackoff);
        secondClock.Advance(RedisCircuit.InitialBackoff);

        var after = new ScriptedModel();
        Task<string> leading = first.Assistant(after).AskAsync("after");
        await after[0].Entered.WaitAsync(s_realBound);
        Task<string> following = second.Assistant(after).AskAsync("after");
        await Followers.WaitingAsync(_server, _prefix, 1, s_realBound);
        after[0].Answer("shared again");

        Assert.Equal("shared again", await leading.WaitAsync(s_realBound));
        Assert.Equal("shared again", await following.WaitAsync(s_realBound));
        Assert.Equal(1, after.Executions);
        Assert.Equal([RedisFallbacks.CircuitOpen], first.FallbackReasons);
        Assert.Empty(second.FallbackReasons);
        Assert.Equal([101, 102], first.RedisEventIds);
        Assert.Equal([101, 102], second.RedisEventIds);
    }

    private async Task<(FlightInstance Instance, FakeTimeProvider Clock, ConnectionMultiplexer Connection)> InstanceAsync()
    {
        var clock = new FakeTimeProvider();
        ConnectionMultiplexer connection = await _server.ConnectAsync();
        FlightInstance instance = FlightInstance.Create(
            clock,
            options =>
            {
                options.KeyPrefix = _prefix;
                options.RedisTimeout = s_redisTimeout;
            },
            connection);
        _owned.Add(connection);
        _owned.Add(instance);
        return (instance, clock, connection);
    }

    // The call creates its Redis timeout's timer in real time, after its command left: moving the fake clock one
    // timeout at a time, with a real moment between moves, lets the timer exist before it is due.
    private static async Task AdvanceUntilCompletedAsync(FakeTimeProvider clock, Task call, TimeSpan step)
    {
        for (int move = 0; move < 50 && !call.IsCompleted; move++)
        {
            await Task.WhenAny(call, Task.Delay(50));
            if (!call.IsCompleted)
            {
                clock.Advance(step);
            }
        }

        await call.WaitAsync(s_realBound);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(waited.Elapsed < s_realBound, $"not within {s_realBound}: {what}");
            await Task.Delay(20);
        }
    }
}
