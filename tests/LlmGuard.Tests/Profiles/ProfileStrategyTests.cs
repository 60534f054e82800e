using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Profiles;
using LlmGuard.Tests.Fakes;
using Microsoft.Extensions.AI;

namespace LlmGuard.Tests.Profiles;

/// <summary>How a profile spreads requests over its models: round-robin and least in flight.</summary>
[GuardBoundary("Tests call the profile directly to see which model each request reaches.")]
public sealed class ProfileStrategyTests
{
    [Fact]
    public async Task Round_robin_sends_consecutive_requests_to_each_model_in_turn()
    {
        var a = new FakeModelClient("a");
        var b = new FakeModelClient("b");
        var c = new FakeModelClient("c");
        using var host = new ProfileHost(ProfileHost.Settings("fast", "RoundRobin", "a", "b", "c"), null, a, b, c);
        LlmModelProfile profile = host.Profiles.Get("fast");

        var answeredBy = new List<string>();
        for (int i = 0; i < 7; i++)
        {
            answeredBy.Add((await profile.GetResponseAsync("q")).Text);
        }

        Assert.Equal(["a", "b", "c", "a", "b", "c", "a"], answeredBy);
    }

    [Fact]
    public async Task Least_in_flight_sends_a_request_to_the_model_with_fewest_requests_waiting()
    {
        FakeModelClient[] models = [new("a") { Gated = true }, new("b") { Gated = true }, new("c") { Gated = true }];
        using var host = new ProfileHost(ProfileHost.Settings("fast", "LeastInFlight", "a", "b", "c"), null, models);
        LlmModelProfile profile = host.Profiles.Get("fast");

        // One request held on each model, each sent from its own thread once the previous one is held.
        var first = new List<Task<ChatResponse>>();
        var held = new List<PendingRequest>();
        foreach (FakeModelClient model in models)
        {
            first.Add(Task.Run(() => profile.GetResponseAsync("q")));
            held.Add(await model.NextRequestAsync());
        }

        // b and c answer while a still holds its request.
        held[1].Answer("b");
        held[2].Answer("c");
        await Task.WhenAll(first[1], first[2]).Within();

        // Round-robin would now pick a (the fourth request's turn); a has one request waiting, b and c none.
        Task<ChatResponse> fourth = Task.Run(() => profile.GetResponseAsync("q"));
        PendingRequest onB = await models[1].NextRequestAsync();
        Task<ChatResponse> fifth = Task.Run(() => profile.GetResponseAsync("q"));
        PendingRequest onC = await models[2].NextRequestAsync();

        Assert.Equal(1, models[0].Requests);
        onB.Answer("b");
        onC.Answer("c");
        held[0].Answer("a");
        Assert.Equal("a", (await first[0].Within()).Text);
        Assert.Equal("b", (await fourth.Within()).Text);
        Assert.Equal("c", (await fifth.Within()).Text);
        Assert.All(profile.Plan.Models, model => Assert.Equal(0, model.InFlight));
    }

    [Fact]
    public async Task Least_in_flight_under_concurrent_load_balances_held_requests_and_leaves_none_counted_in_flight()
    {
        // Randomized interleavings, bounded: 4 threads each send 25 held requests at 4 models; whatever the
        // interleaving, no model may hold more than its share plus the races between picking and counting (one
        // per other thread), and every count returns to 0.
        FakeModelClient[] models = [new("a") { Gated = true }, new("b") { Gated = true }, new("c") { Gated = true }, new("d") { Gated = true }];
        using var host = new ProfileHost(ProfileHost.Settings("fast", "LeastInFlight", "a", "b", "c", "d"), null, models);
        LlmModelProfile profile = host.Profiles.Get("fast");
        const int Threads = 4;
        const int PerThread = 25;

        using var start = new Barrier(Threads);
        // Own threads, not pool threads: a barrier that blocks pool threads waits for the pool to grow.
        Task<ChatResponse>[][] sent = await Task.WhenAll(Enumerable.Range(0, Threads).Select(_ => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait(TimeSpan.FromSeconds(10));
                return Enumerable.Range(0, PerThread).Select(_ => profile.GetResponseAsync("q")).ToArray();
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default))).Within();
        var held = new List<PendingRequest>();
        foreach (FakeModelClient model in models)
        {
            for (int i = 0; i < model.Requests; i++)
            {
                held.Add(await model.NextRequestAsync());
            }
        }

        Assert.Equal(Threads * PerThread, held.Count);
        int share = Threads * PerThread / models.Length;
        Assert.All(models, model => Assert.InRange(model.Requests, share - Threads, share + Threads));
        held.ForEach(request => request.Answer("done"));
        await Task.WhenAll(sent.SelectMany(t => t)).Within();
        Assert.All(profile.Plan.Models, model => Assert.Equal(0, model.InFlight));
    }
}
