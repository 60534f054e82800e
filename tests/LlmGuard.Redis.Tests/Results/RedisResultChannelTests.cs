using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Redis.Results;
using LlmGuard.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Results;

public sealed record Answer(string Text, int Tokens);

[JsonSerializable(typeof(Answer))]
internal sealed partial class ResultJsonContext : JsonSerializerContext;

/// <summary>
/// The hand-off of a result from the instance that ran the execution to one that waited, over two separate connections
/// to a real Redis. The follower's polling runs on a fake clock, so only announcements can wake it unless a test moves
/// that clock.
/// </summary>
public sealed class RedisResultChannelTests(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan s_poll = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_waitBound = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_realBound = TimeSpan.FromSeconds(10);

    // Never reached on a fake clock that only the tests move, and generous on the real one.
    private static readonly TimeSpan s_redisTimeout = TimeSpan.FromMinutes(1);

    private readonly OwnedResources _owned = new();
    private readonly FakeTimeProvider _followerClock = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _owned.DisposeAsync().AsTask();

    [Fact]
    public async Task A_follower_waiting_before_the_leader_publishes_is_woken_by_the_announcement()
    {
        RedisResultChannel leader = await ChannelAsync(TimeProvider.System);
        RedisResultChannel follower = await ChannelAsync(_followerClock);
        string key = NewKey();

        await HoldLeaseAsync(key, Owner);
        Task<FollowerLook<Answer>> waiting = WaitAsync(follower, key);
        await SubscribedAsync(follower.Channel(key));
        Assert.True(await PublishAsync(leader, NewKey(), FlightOutcome.Succeeded, new Answer("another key", 1)));
        Assert.True(await PublishAsync(leader, key, FlightOutcome.Succeeded, new Answer("shared", 42)));

        FollowerLook<Answer> look = await waiting.WaitAsync(s_realBound);
        Assert.Equal(new FollowerLook<Answer>(FlightOutcome.Succeeded, new Answer("shared", 42)), look);
    }

    [Fact]
    public async Task A_follower_arriving_after_the_leader_published_reads_the_stored_result()
    {
        RedisResultChannel leader = await ChannelAsync(TimeProvider.System);
        RedisResultChannel follower = await ChannelAsync(_followerClock);
        string key = NewKey();
        Assert.True(await PublishAsync(leader, key, FlightOutcome.Succeeded, new Answer("early", 7)));

        // The leader released its lease after publishing: a result with no holder is the latest execution's.
        FollowerLook<Answer> look = await WaitAsync(follower, key).WaitAsync(s_realBound);

        Assert.Equal(new FollowerLook<Answer>(FlightOutcome.Succeeded, new Answer("early", 7)), look);
    }

    [Fact]
    public async Task A_follower_that_misses_the_announcement_finds_the_result_by_polling()
    {
        RedisResultChannel follower = await ChannelAsync(_followerClock);
        IDatabase redis = (await ConnectAsync()).GetDatabase();
        string key = NewKey();

        await HoldLeaseAsync(key, Owner);
        Task<FollowerLook<Answer>> waiting = WaitAsync(follower, key);
        await SubscribedAsync(follower.Channel(key));

        // Stored without an announcement: what a follower sees when the announcement was lost on a reconnect.
        Assert.True(await redis.StringSetAsync(
            follower.ResultKey(key), $$$"""{"status":"ok","owner":"{{{Owner}}}","value":{"Text":"polled","Tokens":3}}""", TimeSpan.FromMinutes(1)));
        await AdvanceUntilCompletedAsync(waiting);

        Assert.Equal(new FollowerLook<Answer>(FlightOutcome.Succeeded, new Answer("polled", 3)), await waiting);
        Assert.True(_followerClock.GetUtcNow() - _followerClock.Start < s_waitBound);
    }

    [Fact]
    public async Task A_follower_gives_up_at_its_bound_when_nothing_is_published()
    {
        RedisResultChannel follower = await ChannelAsync(_followerClock);
        string key = NewKey();

        await HoldLeaseAsync(key, Owner);
        Task<FollowerLook<Answer>> waiting = WaitAsync(follower, key);
        await SubscribedAsync(follower.Channel(key));
        await AdvanceUntilCompletedAsync(waiting);

        Assert.Equal(FlightOutcome.TimedOut, (await waiting).Outcome);
        Assert.True(_followerClock.GetUtcNow() - _followerClock.Start >= s_waitBound);
    }

    [Fact]
    public async Task A_leaders_failure_wakes_its_follower_at_once_without_a_value()
    {
        RedisResultChannel leader = await ChannelAsync(TimeProvider.System);
        RedisResultChannel follower = await ChannelAsync(_followerClock);
        string key = NewKey();
        await HoldLeaseAsync(key, Owner);

        Task<FollowerLook<Answer>> waiting = WaitAsync(follower, key);
        await SubscribedAsync(follower.Channel(key));
        Assert.True(await PublishAsync(leader, key, FlightOutcome.Failed, null));

        // The follower's clock never moved: the announcement woke it, not its bound.
        Assert.Equal(new FollowerLook<Answer>(FlightOutcome.Failed, null), await waiting.WaitAsync(s_realBound));
    }

    [Fact]
    public async Task A_follower_finding_neither_a_result_nor_a_lease_holder_reports_no_leader_at_once()
    {
        RedisResultChannel follower = await ChannelAsync(_followerClock);

        FollowerLook<Answer> look = await WaitAsync(follower, NewKey()).WaitAsync(s_realBound);

        Assert.Equal(FlightOutcome.NoLeader, look.Outcome);
    }

    [Fact]
    public async Task A_result_an_earlier_leader_left_is_ignored_while_another_leader_holds_the_lease()
    {
        RedisResultChannel leader = await ChannelAsync(TimeProvider.System);
        RedisResultChannel follower = await ChannelAsync(_followerClock);
        string key = NewKey();
        Assert.True(await PublishAsync(leader, key, FlightOutcome.Succeeded, new Answer("earlier", 1)));
        await HoldLeaseAsync(key, "later-leader");

        Task<FollowerLook<Answer>> waiting = WaitAsync(follower, key);
        await SubscribedAsync(follower.Channel(key));
        Assert.False(waiting.IsCompleted);
        Assert.True(await leader.PublishAsync(key, LeaseKey(key), "later-leader", FlightOutcome.Succeeded, new Answer("later", 2), ResultJsonContext.Default.Answer));

        Assert.Equal(new FollowerLook<Answer>(FlightOutcome.Succeeded, new Answer("later", 2)), await waiting.WaitAsync(s_realBound));
    }

    [Fact]
    public async Task A_result_an_earlier_leader_left_that_this_version_cannot_read_is_ignored_not_reported_unreadable()
    {
        RedisResultChannel leader = await ChannelAsync(TimeProvider.System);
        RedisResultChannel follower = await ChannelAsync(_followerClock);
        string key = NewKey();
        Assert.True(await (await ConnectAsync()).GetDatabase().StringSetAsync(follower.ResultKey(key), """{"status":"ok","owner":"earlier","value":"an older shape"}"""));
        await HoldLeaseAsync(key, "later-leader");

        Task<FollowerLook<Answer>> waiting = WaitAsync(follower, key);
        await SubscribedAsync(follower.Channel(key));
        Assert.True(await leader.PublishAsync(key, LeaseKey(key), "later-leader", FlightOutcome.Succeeded, new Answer("later", 2), ResultJsonContext.Default.Answer));

        Assert.Equal(new FollowerLook<Answer>(FlightOutcome.Succeeded, new Answer("later", 2)), await waiting.WaitAsync(s_realBound));
    }

    [Fact]
    public async Task A_follower_whose_subscription_times_out_leaves_no_handler_on_the_channel_once_the_subscription_completes()
    {
        await using var proxy = new Flights.ReplyHoldingProxy(server.Port);
        ConnectionMultiplexer connection = await ConnectionMultiplexer.ConnectAsync(proxy.Configuration);
        _owned.Add(connection);
        TimeSpan redisTimeout = TimeSpan.FromMilliseconds(250);
        var follower = new RedisResultChannel(connection, "test:", TimeSpan.FromMinutes(1), s_poll, redisTimeout, _followerClock);
        string key = NewKey();

        // Redis executes the SUBSCRIBE, but the follower hears of it only after its Redis timeout.
        proxy.HoldReplies();
        Task<FollowerLook<Answer>> waiting = WaitAsync(follower, key);
        await SubscribedAsync(follower.Channel(key));
        _followerClock.Advance(redisTimeout);
        await Assert.ThrowsAsync<TimeoutException>(() => waiting.WaitAsync(s_realBound));

        // The late subscription completes. A handler the follower that gave up left on it would keep the channel
        // subscribed after the next follower of the key, whose result is there, leaves it.
        proxy.ReleaseReplies();
        RedisResultChannel leader = await ChannelAsync(TimeProvider.System);
        Assert.True(await PublishAsync(leader, key, FlightOutcome.Succeeded, new Answer("later", 3)));
        Assert.Equal(new FollowerLook<Answer>(FlightOutcome.Succeeded, new Answer("later", 3)), await WaitAsync(follower, key).WaitAsync(s_realBound));
        ConnectionMultiplexer admin = await ConnectAsync();
        IServer redis = admin.GetServer(admin.GetEndPoints()[0]);
        Stopwatch waited = Stopwatch.StartNew();
        while ((long)(await redis.ExecuteAsync("PUBSUB", "NUMSUB", follower.Channel(key).ToString()))[1] != 0)
        {
            Assert.True(waited.Elapsed < s_realBound, "the channel is still subscribed after its last follower left");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task A_follower_woken_by_an_announcement_that_was_not_its_leaders_is_still_woken_by_the_next()
    {
        RedisResultChannel leader = await ChannelAsync(TimeProvider.System);
        RedisResultChannel follower = await ChannelAsync(_followerClock);
        ConnectionMultiplexer admin = await ConnectionMultiplexer.ConnectAsync(server.Configuration + ",allowAdmin=true");
        _owned.Add(admin);
        string key = NewKey();
        await HoldLeaseAsync(key, Owner);
        long looksBefore = await LooksAsync(admin);

        Task<FollowerLook<Answer>> waiting = WaitAsync(follower, key);
        await SubscribedAsync(follower.Channel(key));
        await LooksReachAsync(admin, looksBefore + 1);

        // An announcement with nothing for this follower behind it (an abandoned leader's, say): it looks, finds
        // nothing of its leader's, and waits again.
        await admin.GetSubscriber().PublishAsync(follower.Channel(key), RedisValue.EmptyString);
        await LooksReachAsync(admin, looksBefore + 2);
        Assert.False(waiting.IsCompleted);

        Assert.True(await PublishAsync(leader, key, FlightOutcome.Succeeded, new Answer("the leader's", 5)));

        // The follower's clock never moved: only the second announcement can have woken it.
        Assert.Equal(new FollowerLook<Answer>(FlightOutcome.Succeeded, new Answer("the leader's", 5)), await waiting.WaitAsync(s_realBound));
    }

    [Fact]
    public async Task A_leader_whose_lease_another_owner_holds_now_publishes_nothing()
    {
        RedisResultChannel stale = await ChannelAsync(TimeProvider.System);
        IDatabase redis = (await ConnectAsync()).GetDatabase();
        string key = NewKey();
        await HoldLeaseAsync(key, "successor");

        Assert.False(await PublishAsync(stale, key, FlightOutcome.Succeeded, new Answer("late", 1)));
        Assert.False(await redis.KeyExistsAsync(stale.ResultKey(key)));
    }

    private const string Owner = "leader-1";

    private async Task<RedisResultChannel> ChannelAsync(TimeProvider clock) =>
        new(await ConnectAsync(), "test:", TimeSpan.FromMinutes(1), s_poll, s_redisTimeout, clock);

    private static RedisKey LeaseKey(string key) => "test:lease:" + key;

    private static Task<bool> PublishAsync(RedisResultChannel channel, string key, FlightOutcome outcome, Answer? value) =>
        channel.PublishAsync(key, LeaseKey(key), Owner, outcome, value, ResultJsonContext.Default.Answer);

    private static Task<FollowerLook<Answer>> WaitAsync(RedisResultChannel channel, string key) =>
        channel.WaitAsync(key, LeaseKey(key), ResultJsonContext.Default.Answer, new LeaderWitness(), s_waitBound, CancellationToken.None, CancellationToken.None);

    // What a lease holder leaves in Redis: the key, holding the owner's id.
    private async Task HoldLeaseAsync(string key, string owner) =>
        Assert.True(await (await ConnectAsync()).GetDatabase().StringSetAsync(LeaseKey(key), owner, TimeSpan.FromMinutes(1)));

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        ConnectionMultiplexer connection = await server.ConnectAsync();
        _owned.Add(connection);
        return connection;
    }

    private static string NewKey() => "key-" + Guid.NewGuid().ToString("N");

    // A follower's look is one MGET (the lease and the result); this class's server serves only this class's tests,
    // which run one at a time.
    private static async Task<long> LooksAsync(ConnectionMultiplexer admin)
    {
        foreach (IGrouping<string, KeyValuePair<string, string>> section in await admin.GetServer(admin.GetEndPoints()[0]).InfoAsync("commandstats"))
        {
            foreach (KeyValuePair<string, string> stat in section)
            {
                if (stat.Key == "cmdstat_mget")
                {
                    // calls=N,usec=...
                    return long.Parse(stat.Value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
                }
            }
        }

        return 0;
    }

    private static async Task LooksReachAsync(ConnectionMultiplexer admin, long looks)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (await LooksAsync(admin) < looks)
        {
            Assert.True(waited.Elapsed < s_realBound, $"the follower did not make look {looks}");
            await Task.Delay(10);
        }
    }

    // Redis reports the follower's subscription; until then an announcement could go unheard.
    private async Task SubscribedAsync(RedisChannel channel)
    {
        ConnectionMultiplexer admin = await ConnectAsync();
        IServer redis = admin.GetServer(admin.GetEndPoints()[0]);
        Stopwatch waited = Stopwatch.StartNew();
        while ((long)(await redis.ExecuteAsync("PUBSUB", "NUMSUB", channel.ToString()))[1] == 0)
        {
            Assert.True(waited.Elapsed < s_realBound, $"nobody subscribed to {channel}");
            await Task.Delay(10);
        }
    }

    // The follower creates its next poll timer only after its last look returns from Redis, in real time: moving the
    // fake clock one poll at a time, with a real moment between moves, lets each timer exist before it is due.
    private async Task AdvanceUntilCompletedAsync(Task waiting)
    {
        for (int move = 0; move < 20 && !waiting.IsCompleted; move++)
        {
            await Task.WhenAny(waiting, Task.Delay(100));
            if (!waiting.IsCompleted)
            {
                _followerClock.Advance(s_poll);
            }
        }

        await waiting.WaitAsync(s_realBound);
    }
}
