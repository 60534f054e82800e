using System;
using System.Collections.Generic;
using System.Diagnostics;
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

    private readonly List<ConnectionMultiplexer> _connections = [];
    private readonly FakeTimeProvider _followerClock = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (ConnectionMultiplexer connection in _connections)
        {
            await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_follower_waiting_before_the_leader_publishes_is_woken_by_the_announcement()
    {
        RedisResultChannel leader = await ChannelAsync(TimeProvider.System);
        RedisResultChannel follower = await ChannelAsync(_followerClock);
        string key = NewKey();

        Task<(bool Found, Answer? Value)> waiting = follower.WaitAsync(key, ResultJsonContext.Default.Answer, s_waitBound, CancellationToken.None);
        await SubscribedAsync(follower.Channel(key));
        Assert.True(await leader.PublishAsync(NewKey(), new Answer("another key", 1), ResultJsonContext.Default.Answer));
        Assert.True(await leader.PublishAsync(key, new Answer("shared", 42), ResultJsonContext.Default.Answer));

        (bool found, Answer? value) = await waiting.WaitAsync(s_realBound);
        Assert.True(found);
        Assert.Equal(new Answer("shared", 42), value);
    }

    [Fact]
    public async Task A_follower_arriving_after_the_leader_published_reads_the_stored_result()
    {
        RedisResultChannel leader = await ChannelAsync(TimeProvider.System);
        RedisResultChannel follower = await ChannelAsync(_followerClock);
        string key = NewKey();
        Assert.True(await leader.PublishAsync(key, new Answer("early", 7), ResultJsonContext.Default.Answer));

        (bool found, Answer? value) = await follower.WaitAsync(key, ResultJsonContext.Default.Answer, s_waitBound, CancellationToken.None).WaitAsync(s_realBound);

        Assert.True(found);
        Assert.Equal(new Answer("early", 7), value);
    }

    [Fact]
    public async Task A_follower_that_misses_the_announcement_finds_the_result_by_polling()
    {
        RedisResultChannel follower = await ChannelAsync(_followerClock);
        IDatabase redis = (await ConnectAsync()).GetDatabase();
        string key = NewKey();

        Task<(bool Found, Answer? Value)> waiting = follower.WaitAsync(key, ResultJsonContext.Default.Answer, s_waitBound, CancellationToken.None);
        await SubscribedAsync(follower.Channel(key));

        // Stored without an announcement: what a follower sees when the announcement was lost on a reconnect.
        Assert.True(await redis.StringSetAsync(follower.ResultKey(key), """{"Text":"polled","Tokens":3}""", TimeSpan.FromMinutes(1)));
        await AdvanceUntilCompletedAsync(waiting);

        (bool found, Answer? value) = await waiting;
        Assert.True(found);
        Assert.Equal(new Answer("polled", 3), value);
        Assert.True(_followerClock.GetUtcNow() - _followerClock.Start < s_waitBound);
    }

    [Fact]
    public async Task A_follower_gives_up_at_its_bound_when_nothing_is_published()
    {
        RedisResultChannel follower = await ChannelAsync(_followerClock);
        string key = NewKey();

        Task<(bool Found, Answer? Value)> waiting = follower.WaitAsync(key, ResultJsonContext.Default.Answer, s_waitBound, CancellationToken.None);
        await SubscribedAsync(follower.Channel(key));
        await AdvanceUntilCompletedAsync(waiting);

        (bool found, Answer? value) = await waiting;
        Assert.False(found);
        Assert.Null(value);
        Assert.True(_followerClock.GetUtcNow() - _followerClock.Start >= s_waitBound);
    }

    private async Task<RedisResultChannel> ChannelAsync(TimeProvider clock) =>
        new(await ConnectAsync(), "test:", TimeSpan.FromMinutes(1), s_poll, clock);

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        ConnectionMultiplexer connection = await server.ConnectAsync();
        _connections.Add(connection);
        return connection;
    }

    private static string NewKey() => "key-" + Guid.NewGuid().ToString("N");

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
