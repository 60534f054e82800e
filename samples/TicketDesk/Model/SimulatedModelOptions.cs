using System;
using Simulation;

namespace TicketDesk.Model;

/// <summary>
/// How the simulated provider treats the requests to one model (<c>Model:Simulated:&lt;model&gt;</c>); a value left
/// unset is the busy provider's default.
/// </summary>
public sealed class SimulatedModelOptions
{
    /// <summary>The share of the model's requests answered 429 with Retry-After.</summary>
    public double? RateLimitedRate { get; set; }

    /// <summary>The share of the model's requests answered 503; <c>1</c> takes the model down.</summary>
    public double? UnavailableRate { get; set; }

    /// <summary>The share of the model's requests that hang until the client gives up; <c>1</c> makes it hang.</summary>
    public double? HangRate { get; set; }

    /// <summary>The shortest time the model's answers take, in milliseconds.</summary>
    public int? MinLatencyMs { get; set; }

    /// <summary>The longest time the model's answers take, in milliseconds.</summary>
    public int? MaxLatencyMs { get; set; }

    /// <summary>The time between two chunks of the model's streamed answers, after the first, in milliseconds.</summary>
    public int? ChunkIntervalMs { get; set; }

    /// <summary>The provider's behaviour for this model: <paramref name="defaults"/> with the values set here.</summary>
    public SimulatedProviderOptions Apply(SimulatedProviderOptions defaults)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        TimeSpan min = MinLatencyMs is { } minMs ? TimeSpan.FromMilliseconds(minMs) : defaults.MinLatency;

        // A slow model set with MinLatencyMs alone still has a range to pick from.
        TimeSpan max = MaxLatencyMs is { } maxMs ? TimeSpan.FromMilliseconds(maxMs) : TimeSpan.FromTicks(Math.Max(min.Ticks, defaults.MaxLatency.Ticks));
        return defaults with
        {
            RateLimitedRate = RateLimitedRate ?? defaults.RateLimitedRate,
            UnavailableRate = UnavailableRate ?? defaults.UnavailableRate,
            HangRate = HangRate ?? defaults.HangRate,
            MinLatency = min,
            MaxLatency = max,
            ChunkInterval = ChunkIntervalMs is { } chunkMs ? TimeSpan.FromMilliseconds(chunkMs) : defaults.ChunkInterval,
        };
    }
}
