using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Flights;

/// <summary>
/// Two instances, each a container with its own runtime and its own connection to a real Redis, calling the same key.
/// Their clocks are fake: a follower's polling never fires, so only the leader's announcement can answer it.
/// </summary>
public sealed class CrossInstanceFlightTests(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private static readonly TimeSpan s_realBound = TimeSpan.FromSeconds(10);

    // Generous for a loaded test machine: these tests are about sharing, not about Redis being slow.
    private static readonly TimeSpan s_redisTimeout = TimeSpan.FromSeconds(5);

    private readonly string _prefix = "test-" + Guid.NewGuid().ToString("N") + ":";
    private readonly OwnedResources _owned = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _owned.DisposeAsync().AsTask();

    [Fact]
    public async Task Concurrent_identical_calls_on_two_instances_run_one_execution()
    {
        var model = new HeldModel();
        SharedAssistant first = Instance(model);
        SharedAssistant second = Instance(model);

        Task<string>[] calls = [first.AskAsync("which plan"), second.AskAsync("which plan")];
        await model.Entered.WaitAsync(s_realBound);
        await Followers.WaitingAsync(server, _prefix, 1, s_realBound);
        model.Answer("the yearly plan");

        string[] answers = await Task.WhenAll(calls).WaitAsync(s_realBound);
        Assert.Equal(["the yearly plan", "the yearly plan"], answers);
        Assert.Equal(1, model.Executions);
    }

    [Fact]
    public async Task Two_methods_of_one_scene_with_equal_guard_keys_on_two_instances_each_run_their_own_execution()
    {
        var model = new HeldModel();
        SharedAssistant first = Instance(model);
        SharedAssistant second = Instance(model);

        Task<string> asked = first.AskAsync("which plan");
        Task<string> summarized = second.SummarizeAsync("which plan");
        for (int look = 0; model.Executions < 2; look++)
        {
            Assert.True(look < 1_000, "The second method never ran: it followed the first method's execution.");
            await Task.Delay(10);
        }

        model.Answer("the yearly plan");

        Assert.Equal("the yearly plan", await asked.WaitAsync(s_realBound));
        Assert.Equal("summary: the yearly plan", await summarized.WaitAsync(s_realBound));
    }

    [Fact]
    public async Task A_burst_of_calls_on_three_instances_runs_one_execution_per_key()
    {
        const int Instances = 3;
        const int Keys = 4;
        const int CallsPerInstanceAndKey = 30;
        int seed = Environment.TickCount;
        var random = new Random(seed);
        var runtimes = new GuardRuntime[Instances];
        for (int i = 0; i < Instances; i++)
        {
            runtimes[i] = Runtime(server.Configuration, s_redisTimeout);
        }

        var models = new HeldModel[Keys];
        var calls = new List<(int Key, int Instance)>();
        for (int key = 0; key < Keys; key++)
        {
            models[key] = new HeldModel();
            for (int instance = 0; instance < Instances; instance++)
            {
                for (int call = 0; call < CallsPerInstanceAndKey; call++)
                {
                    calls.Add((key, instance));
                }
            }
        }

        // The calls arrive in a random order across instances and keys. Each has joined its instance's flight when
        // AskAsync returns, so none can arrive after the answers are released and start a flight of its own.
        random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(calls));
        var answers = new List<Task<(int Key, string Answer)>>();
        foreach ((int key, int instance) in calls)
        {
            answers.Add(AskAsync(key, new SharedAssistant(runtimes[instance], models[key]).AskAsync("question " + key)));
        }

        foreach (HeldModel model in models)
        {
            await model.Entered.WaitAsync(s_realBound);
        }

        await FollowersWaitingAsync(Keys, Instances - 1);
        for (int key = 0; key < Keys; key++)
        {
            models[key].Answer("answer " + key);
        }

        foreach ((int key, string answer) in await Task.WhenAll(answers).WaitAsync(s_realBound))
        {
            Assert.Equal("answer " + key, answer);
        }

        for (int key = 0; key < Keys; key++)
        {
            Assert.True(models[key].Executions == 1, $"key {key} ran {models[key].Executions} executions (seed {seed})");
        }
    }

    [Fact]
    public async Task A_follower_of_a_later_execution_waits_for_its_result_rather_than_reading_an_earlier_one()
    {
        GuardRuntime first = Runtime(server.Configuration, s_redisTimeout);
        GuardRuntime second = Runtime(server.Configuration, s_redisTimeout);
        var earlier = new HeldModel();
        earlier.Answer("the monthly plan");
        Assert.Equal("the monthly plan", await new SharedAssistant(first, earlier).AskAsync("which plan").WaitAsync(s_realBound));

        var later = new HeldModel();
        Task<string> leading = new SharedAssistant(second, later).AskAsync("which plan");
        await later.Entered.WaitAsync(s_realBound);
        Task<string> following = new SharedAssistant(first, later).AskAsync("which plan");
        await Followers.WaitingAsync(server, _prefix, 1, s_realBound);
        later.Answer("the yearly plan");

        Assert.Equal("the yearly plan", await leading.WaitAsync(s_realBound));
        Assert.Equal("the yearly plan", await following.WaitAsync(s_realBound));
        Assert.Equal(1, later.Executions);
    }

    [Fact]
    public async Task An_instance_whose_Redis_is_unreachable_answers_its_callers_itself()
    {
        var model = new HeldModel();
        SharedAssistant instance = Instance(model, UnreachableConfiguration(), TimeSpan.FromMilliseconds(100));

        Task<string> call = instance.AskAsync("which plan");
        await model.Entered.WaitAsync(s_realBound);
        model.Answer("answered locally");

        Assert.Equal("answered locally", await call.WaitAsync(s_realBound));
        Assert.Equal(1, model.Executions);
    }

    // A loopback port that was free a moment ago: nothing accepts the connection.
    private static string UnreachableConfiguration()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"127.0.0.1:{port},abortConnect=false,connectTimeout=500";
    }

    private SharedAssistant Instance(HeldModel model) => Instance(model, server.Configuration, s_redisTimeout);

    private SharedAssistant Instance(HeldModel model, string configuration, TimeSpan redisTimeout) =>
        new(Runtime(configuration, redisTimeout), model);

    private GuardRuntime Runtime(string configuration, TimeSpan redisTimeout)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddSingleton<TimeProvider>(new FakeTimeProvider());
        services.AddLlmGuard(options => options.Scenes[SharedAssistant.Scene] = new LlmSceneOptions { Distributed = true })
            .AddRedis(options =>
            {
                options.Configuration = configuration;
                options.TypeInfoResolver = FlightJsonContext.Default;
                options.KeyPrefix = _prefix;
                options.RedisTimeout = redisTimeout;
            });
        ServiceProvider instance = services.BuildServiceProvider();
        _owned.Add(instance);
        return instance.GetRequiredService<GuardRuntime>();
    }

    private static async Task<(int Key, string Answer)> AskAsync(int key, Task<string> call) => (key, await call);

    // Every key's result channel has a subscriber on each instance that did not take the key's lease.
    private async Task FollowersWaitingAsync(int keys, int followersPerKey)
    {
        await using ConnectionMultiplexer admin = await server.ConnectAsync();
        IServer redis = admin.GetServer(admin.GetEndPoints()[0]);
        Stopwatch waited = Stopwatch.StartNew();
        while (true)
        {
            var channels = (RedisResult[])(await redis.ExecuteAsync("PUBSUB", "CHANNELS", _prefix + "done:*"))!;
            int waiting = 0;
            foreach (RedisResult channel in channels)
            {
                if ((long)(await redis.ExecuteAsync("PUBSUB", "NUMSUB", (string)channel!))[1] == followersPerKey)
                {
                    waiting++;
                }
            }

            if (waiting == keys)
            {
                return;
            }

            Assert.True(waited.Elapsed < s_realBound, $"{waiting} of {keys} keys have all their followers waiting");
            await Task.Delay(10);
        }
    }
}
