using System;
using System.Collections.Generic;
using System.Threading.Tasks;

namespace Simulation;

/// <summary>
/// How the simulated provider behaves. The defaults are a busy provider: answers take 150-450 ms; 10% of requests
/// get 429 with Retry-After, 10% get 503, and 5% hang until the client gives up.
/// </summary>
public sealed record SimulatedProviderOptions
{
    /// <summary>Seeds the one generator that picks every outcome and latency, so a run can be replayed.</summary>
    public int Seed { get; init; } = 7;

    /// <summary>The share of requests answered 429 with Retry-After.</summary>
    public double RateLimitedRate { get; init; } = 0.10;

    /// <summary>The share of requests answered 503.</summary>
    public double UnavailableRate { get; init; } = 0.10;

    /// <summary>The share of requests that hang until the client disconnects (at most 10 s).</summary>
    public double HangRate { get; init; } = 0.05;

    /// <summary>The shortest time an answer takes.</summary>
    public TimeSpan MinLatency { get; init; } = TimeSpan.FromMilliseconds(150);

    /// <summary>The longest time an answer takes.</summary>
    public TimeSpan MaxLatency { get; init; } = TimeSpan.FromMilliseconds(450);

    /// <summary>
    /// Writes the assistant's message for a request that succeeds; <see langword="null"/> answers every request with
    /// one apology from an online shop's support desk.
    /// </summary>
    public Func<SimulatedRequest, string>? Answer { get; init; }

    /// <summary>
    /// When set, every request waits for this task after it is counted and before it is answered, so a test decides
    /// when the provider answers; <see langword="null"/> answers after the latency alone.
    /// </summary>
    public Task? HoldAnswersUntil { get; init; }

    /// <summary>
    /// The time between two chunks of a streamed answer, after the first. Defaults to 40 ms: a stream of a short answer
    /// takes about half a second, long enough to see the words arrive.
    /// </summary>
    public TimeSpan ChunkInterval { get; init; } = TimeSpan.FromMilliseconds(40);

    /// <summary>
    /// When set, a streamed answer sends its first chunk of text, then waits for this task before the rest, so a test
    /// acts while the stream is open; <see langword="null"/> streams the answer at <see cref="ChunkInterval"/>.
    /// </summary>
    public Task? HoldStreamsAfterFirstChunkUntil { get; init; }

    /// <summary>
    /// How requests that name one of these models (the request's <c>model</c>) behave, in place of these options' rates,
    /// latencies, <see cref="HoldAnswersUntil"/>, <see cref="ChunkInterval"/> and
    /// <see cref="HoldStreamsAfterFirstChunkUntil"/>, so one model of the provider can be slow or down while another
    /// answers; a model not listed behaves as these options say, and <see langword="null"/> treats every model alike.
    /// An entry's <see cref="Seed"/>, <see cref="Answer"/> and <see cref="Models"/> are not read: one generator picks
    /// every outcome and these options' <see cref="Answer"/> writes every answer.
    /// </summary>
    public IReadOnlyDictionary<string, SimulatedProviderOptions>? Models { get; init; }
}
