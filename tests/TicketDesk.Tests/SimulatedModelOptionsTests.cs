using System;
using Simulation;
using TicketDesk.Model;

namespace TicketDesk.Tests;

/// <summary><c>Model:Simulated:&lt;model&gt;</c>, which the degradation demo uses to take one model down or slow it.</summary>
public sealed class SimulatedModelOptionsTests
{
    private static readonly SimulatedProviderOptions s_busy = new() { Answer = SimulatedAnswers.Answer };

    [Fact]
    public void A_model_setting_changes_only_what_it_sets_and_keeps_the_busy_provider_for_the_rest()
    {
        SimulatedProviderOptions down = new SimulatedModelOptions { UnavailableRate = 1 }.Apply(s_busy);

        Assert.Equal(s_busy with { UnavailableRate = 1 }, down);
    }

    [Fact]
    public void A_slow_model_set_with_its_shortest_latency_alone_still_has_a_range_to_pick_from()
    {
        SimulatedProviderOptions slow = new SimulatedModelOptions { MinLatencyMs = 2000 }.Apply(s_busy);

        Assert.Equal(TimeSpan.FromMilliseconds(2000), slow.MinLatency);
        Assert.Equal(TimeSpan.FromMilliseconds(2000), slow.MaxLatency);
    }

    [Fact]
    public void Every_setting_is_applied()
    {
        SimulatedProviderOptions set = new SimulatedModelOptions
        {
            RateLimitedRate = 0.2,
            UnavailableRate = 0.3,
            HangRate = 0.4,
            MinLatencyMs = 10,
            MaxLatencyMs = 20,
            ChunkIntervalMs = 300,
        }.Apply(s_busy);

        Assert.Equal(
            s_busy with
            {
                RateLimitedRate = 0.2,
                UnavailableRate = 0.3,
                HangRate = 0.4,
                MinLatency = TimeSpan.FromMilliseconds(10),
                MaxLatency = TimeSpan.FromMilliseconds(20),
                ChunkInterval = TimeSpan.FromMilliseconds(300),
            },
            set);
    }
}
