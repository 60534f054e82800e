using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Redis.Telemetry;
using LlmGuard.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Flights;

/// <summary>
/// What a follower on another instance does when the leader's execution ends without an answer to share. The clocks
/// are fake and never moved: no poll and no bound ever fires, so only the leader's announcement can wake a follower.
/// </summary>
public sealed class LeaderOutcomeTests(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan s_realBound = TimeSpan.FromSeconds(10);

    private readonly string _prefix = "test-" + Guid.NewGuid().ToString("N") + ":";
    private readonly OwnedResources _owned = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _owned.DisposeAsync().AsTask();

    [Fact]
    public async Task A_leaders_failure_wakes_its_follower_at_once_and_the_follower_runs_the_execution_itself()
    {
        var model = new ScriptedModel();
        FlightInstance leader = Instance();
        FlightInstance follower = Instance();

        Task<string> leading = leader.Assistant(model).AskAsync("which plan");
        await model[0].Entered.WaitAsync(s_realBound);
        Task<string> following = follower.Assistant(model).AskAsync("which plan");
        await Followers.WaitingAsync(server, _prefix, 1, s_realBound);

        model[0].Fail(new InvalidOperationException("the model is down"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => leading.WaitAsync(s_realBound));

        // The failure is not shared: the follower's own execution decides its caller's answer.
        await model[1].Entered.WaitAsync(s_realBound);
        model[1].Answer("answered on the follower");
        Assert.Equal("answered on the follower", await following.WaitAsync(s_realBound));
        Assert.Equal(2, model.Executions);
        Assert.Equal([RedisFallbacks.LeaderFailed], follower.FallbackReasons);
        Assert.Empty(leader.FallbackReasons);
    }

    [Fact]
    public async Task A_leader_whose_callers_left_hands_the_execution_to_a_waiting_follower_at_once()
    {
        var model = new ScriptedModel();
        FlightInstance leader = Instance();
        FlightInstance follower = Instance();
        using var leaving = new CancellationTokenSource();

        Task<string> leading = leader.Assistant(model).AskAsync("which plan", leaving.Token);
        await model[0].Entered.WaitAsync(s_realBound);
        Task<string> following = follower.Assistant(model).AskAsync("which plan");
        await Followers.WaitingAsync(server, _prefix, 1, s_realBound);

        leaving.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leading.WaitAsync(s_realBound));
        await model[0].Cancelled.WaitAsync(s_realBound);

        // The follower took the lease the abandoned leader released: it leads now, and is not counted as a fallback.
        await model[1].Entered.WaitAsync(s_realBound);
        model[1].Answer("answered by the new leader");
        Assert.Equal("answered by the new leader", await following.WaitAsync(s_realBound));
        Assert.Equal(2, model.Executions);
        Assert.Empty(follower.FallbackReasons);
    }

    [Fact]
    public async Task Followers_on_two_instances_elect_exactly_one_successor_to_an_abandoned_leader_in_random_interleavings()
    {
        const int Rounds = 8;
        int seed = Environment.TickCount;
        var random = new Random(seed);
        FlightInstance[] instances = [Instance(), Instance(), Instance()];

        for (int round = 0; round < Rounds; round++)
        {
            var model = new ScriptedModel();
            string question = "question " + round;
            int leaderIndex = random.Next(instances.Length);
            using var leaving = new CancellationTokenSource();
            Task<string> leading = instances[leaderIndex].Assistant(model).AskAsync(question, leaving.Token);
            await model[0].Entered.WaitAsync(s_realBound);

            // Each other instance has a few local callers: they share one local flight, so one follower per instance.
            var following = new List<Task<string>>();
            for (int i = 0; i < instances.Length; i++)
            {
                for (int caller = i == leaderIndex ? 0 : random.Next(1, 4); caller > 0; caller--)
                {
                    following.Add(instances[i].Assistant(model).AskAsync(question));
                }
            }

            await Followers.WaitingAsync(server, _prefix, instances.Length - 1, s_realBound);

            // Random spins shift the cancellation and the successor's answer against the followers' re-election.
            Thread.SpinWait(random.Next(0, 20_000));
            leaving.Cancel();
            await model[1].Entered.WaitAsync(s_realBound);
            Thread.SpinWait(random.Next(0, 20_000));
            model[1].Answer("answer " + round);

            foreach (string answer in await Task.WhenAll(following).WaitAsync(s_realBound))
            {
                Assert.True(answer == "answer " + round, $"round {round} answered {answer} (seed {seed})");
            }

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leading.WaitAsync(s_realBound));
            Assert.True(model.Executions == 2, $"round {round} ran {model.Executions} executions (seed {seed})");
        }

        foreach (FlightInstance instance in instances)
        {
            Assert.Empty(instance.FallbackReasons);
        }
    }

    [Fact]
    public async Task A_follower_whose_leader_outlasts_the_follower_wait_runs_the_execution_itself_at_that_bound()
    {
        var model = new ScriptedModel();
        var followerClock = new FakeTimeProvider();
        TimeSpan followerWait = TimeSpan.FromSeconds(5);
        FlightInstance leader = Instance();
        FlightInstance follower = Instance(options => options.FollowerWait = followerWait, followerClock);
        Task<string> leading = leader.Assistant(model).AskAsync("which plan");
        await model[0].Entered.WaitAsync(s_realBound);
        model[1].Answer("answered on the follower");

        Task<string> following = follower.Assistant(model).AskAsync("which plan");
        await Followers.WaitingAsync(server, _prefix, 1, s_realBound);

        // One second at a time, with a real moment between moves for the follower's next poll timer to exist.
        for (int move = 0; move < 20 && !following.IsCompleted; move++)
        {
            await Task.WhenAny(following, Task.Delay(50));
            if (!following.IsCompleted)
            {
                followerClock.Advance(TimeSpan.FromSeconds(1));
            }
        }

        Assert.Equal("answered on the follower", await following.WaitAsync(s_realBound));
        Assert.InRange(followerClock.GetUtcNow() - followerClock.Start, followerWait, followerWait + TimeSpan.FromSeconds(1));
        Assert.Equal([RedisFallbacks.FollowerWait], follower.FallbackReasons);

        model[0].Answer("answered on the leader");
        Assert.Equal("answered on the leader", await leading.WaitAsync(s_realBound));
    }

    [Fact]
    public async Task A_follower_that_takes_a_free_lease_after_a_successor_already_answered_uses_that_answer_instead_of_running_again()
    {
        var model = new ScriptedModel();
        var followerClock = new FakeTimeProvider();
        await using var proxy = new ReplyHoldingProxy(server.Port);
        FlightInstance leader = Instance();
        FlightInstance follower = Instance(options => options.Configuration = proxy.Configuration, followerClock);
        await using ConnectionMultiplexer admin = await ConnectionMultiplexer.ConnectAsync(server.Configuration + ",allowAdmin=true");
        IDatabase redis = admin.GetDatabase();

        Task<string> leading = leader.Assistant(model).AskAsync("which plan");
        await model[0].Entered.WaitAsync(s_realBound);
        Task<string> following = follower.Assistant(model).AskAsync("which plan");
        await Followers.WaitingAsync(server, _prefix, 1, s_realBound);
        string leaseKey = (string)Assert.Single(await KeysAsync(admin, "lease:*"))!;
        string resultKey = _prefix + "result:" + leaseKey[(_prefix + "lease:").Length..];

        // The leader's lease vanishes (it stalled past its TTL). The follower's next look finds neither a holder nor a
        // result, but it learns that only when the test lets the reply through...
        Assert.True(await redis.KeyDeleteAsync(leaseKey));
        proxy.HoldReplies();
        long looks = await MgetCallsAsync(admin);
        for (int move = 0; move < 50 && await MgetCallsAsync(admin) == looks; move++)
        {
            followerClock.Advance(TimeSpan.FromMilliseconds(200));
            await Task.Delay(20);
        }

        Assert.Equal(looks + 1, await MgetCallsAsync(admin));

        // ...and meanwhile another instance took the lease, ran the execution, published and released.
        Assert.True(await redis.StringSetAsync(resultKey, """{"status":"ok","owner":"successor","value":"the successor's answer"}"""));
        proxy.ReleaseReplies();

        // The follower takes the free lease, and finds the answer before it would run the execution again.
        Assert.Equal("the successor's answer", await following.WaitAsync(s_realBound));
        Assert.Equal(1, model.Executions);
        Assert.Empty(follower.FallbackReasons);
        Assert.False(await redis.KeyExistsAsync(leaseKey));

        model[0].Answer("answered on the leader");
        Assert.Equal("answered on the leader", await leading.WaitAsync(s_realBound));
    }

    [Fact]
    public async Task An_outcome_an_earlier_execution_left_is_not_taken_for_the_leaders_once_the_lease_is_free()
    {
        var model = new ScriptedModel();
        FlightInstance leader = Instance();
        FlightInstance follower = Instance();
        await using ConnectionMultiplexer admin = await ConnectionMultiplexer.ConnectAsync(server.Configuration + ",allowAdmin=true");
        IDatabase redis = admin.GetDatabase();

        Task<string> leading = leader.Assistant(model).AskAsync("which plan");
        await model[0].Entered.WaitAsync(s_realBound);
        string leaseKey = (string)Assert.Single(await KeysAsync(admin, "lease:*"))!;
        string flightKey = leaseKey[(_prefix + "lease:").Length..];

        // What an earlier execution left when this leader could not delete it (its first Redis step timed out).
        Assert.True(await redis.StringSetAsync(_prefix + "result:" + flightKey, """{"status":"ok","owner":"earlier","value":"yesterday's answer"}"""));
        long looks = await MgetCallsAsync(admin);
        Task<string> following = follower.Assistant(model).AskAsync("which plan");
        await Followers.WaitingAsync(server, _prefix, 1, s_realBound);

        // The follower's first look saw the leader hold the lease over that outcome.
        var waited = Stopwatch.StartNew();
        while (await MgetCallsAsync(admin) == looks)
        {
            Assert.True(waited.Elapsed < s_realBound, "the follower never looked");
            await Task.Delay(10);
        }

        // The leader, which could not mark an outcome as its own, releases without publishing; an announcement wakes the
        // follower's look, as a publish would.
        Assert.True(await redis.KeyDeleteAsync(leaseKey));
        await admin.GetSubscriber().PublishAsync(RedisChannel.Literal(_prefix + "done:" + flightKey), "");

        // The follower takes the free lease and runs the execution rather than answer with the earlier one.
        await model[1].Entered.WaitAsync(s_realBound);
        model[1].Answer("today's answer");
        Assert.Equal("today's answer", await following.WaitAsync(s_realBound));
        Assert.Empty(follower.FallbackReasons);

        model[0].Answer("answered on the leader");
        Assert.Equal("answered on the leader", await leading.WaitAsync(s_realBound));
    }

    [Fact]
    public async Task A_follower_that_finds_a_result_it_cannot_read_runs_the_execution_itself()
    {
        var model = new ScriptedModel();
        FlightInstance leader = Instance();
        FlightInstance follower = Instance();
        Task<string> leading = leader.Assistant(model).AskAsync("which plan");
        await model[0].Entered.WaitAsync(s_realBound);

        // What another version of the application, sharing the Redis and the prefix, could have left.
        await using ConnectionMultiplexer admin = await server.ConnectAsync();
        IDatabase redis = admin.GetDatabase();
        string leaseKey = (string)Assert.Single(await KeysAsync(admin, "lease:*"))!;
        Assert.True(await redis.StringSetAsync(_prefix + "result:" + leaseKey[(_prefix + "lease:").Length..], "{\"text\":\"v1 shape\"}"));

        model[1].Answer("answered on the follower");
        Assert.Equal("answered on the follower", await follower.Assistant(model).AskAsync("which plan").WaitAsync(s_realBound));
        Assert.Equal([RedisFallbacks.UnreadableResult], follower.FallbackReasons);

        model[0].Answer("answered on the leader");
        Assert.Equal("answered on the leader", await leading.WaitAsync(s_realBound));
    }

    [Fact]
    public async Task A_leader_whose_answer_cannot_be_written_still_answers_and_frees_the_key_for_the_next_call_at_once()
    {
        FlightInstance first = Instance(options => options.TypeInfoResolver = UnwritableAnswerJsonContext.Default);
        FlightInstance second = Instance(options => options.TypeInfoResolver = UnwritableAnswerJsonContext.Default);
        var firstAssistant = new UnwritableAssistant(first.Runtime);
        var secondAssistant = new UnwritableAssistant(second.Runtime);
        await using ConnectionMultiplexer admin = await server.ConnectAsync();

        UnwritableAnswer answer = await firstAssistant.AskAsync("which plan").WaitAsync(s_realBound);

        Assert.Equal("answer to which plan", answer.Text);
        Assert.Empty(await KeysAsync(admin, "lease:*"));

        // The second instance's clock never moves: a lease left behind would keep its call waiting for good.
        Assert.Equal("answer to which plan", (await secondAssistant.AskAsync("which plan").WaitAsync(s_realBound)).Text);
        Assert.Equal(1, secondAssistant.Executions);
        Assert.Empty(second.FallbackReasons);
    }

    [Fact]
    public async Task A_result_type_without_a_json_contract_runs_on_each_instance_and_is_logged_once()
    {
        FlightInstance instance = Instance(options => options.TypeInfoResolver = NumbersOnlyJsonContext.Default);
        var model = new ScriptedModel();
        model[0].Answer("first");
        model[1].Answer("second");

        Assert.Equal("first", await instance.Assistant(model).AskAsync("one").WaitAsync(s_realBound));
        Assert.Equal("second", await instance.Assistant(model).AskAsync("two").WaitAsync(s_realBound));

        Assert.Equal([RedisFallbacks.NoContract, RedisFallbacks.NoContract], instance.FallbackReasons);
        Assert.Equal([103], instance.RedisEventIds);
    }

    private async Task<List<RedisKey>> KeysAsync(ConnectionMultiplexer admin, string pattern)
    {
        var keys = new List<RedisKey>();
        await foreach (RedisKey key in admin.GetServer(admin.GetEndPoints()[0]).KeysAsync(pattern: _prefix + pattern))
        {
            keys.Add(key);
        }

        return keys;
    }

    private static async Task<long> MgetCallsAsync(ConnectionMultiplexer admin)
    {
        foreach (IGrouping<string, KeyValuePair<string, string>> section in await admin.GetServer(admin.GetEndPoints()[0]).InfoAsync("commandstats"))
        {
            foreach (KeyValuePair<string, string> stat in section.Where(stat => stat.Key == "cmdstat_mget"))
            {
                // calls=N,usec=...
                return long.Parse(stat.Value.Split(',')[0]["calls=".Length..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    private FlightInstance Instance(Action<LlmGuardRedisOptions>? configure = null, FakeTimeProvider? clock = null)
    {
        FlightInstance instance = FlightInstance.Create(clock ?? new FakeTimeProvider(), options =>
        {
            options.Configuration = server.Configuration;
            options.KeyPrefix = _prefix;

            // Generous for a loaded test machine; on a clock nobody moves it never ends a step anyway.
            options.RedisTimeout = TimeSpan.FromSeconds(5);
            configure?.Invoke(options);
        });
        _owned.Add(instance);
        return instance;
    }
}

/// <summary>A contract source that knows numbers only: the shared scene's strings have no contract in it.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(int))]
internal sealed partial class NumbersOnlyJsonContext : System.Text.Json.Serialization.JsonSerializerContext;
