using System;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Replay.Traffic;

namespace LlmGuard.Replay;

/// <summary>An answer of the bot, and the conversation revision it was computed from.</summary>
public sealed record Answer(int Session, int Revision, bool FromFallback);

/// <summary>
/// Stands in for a chat-completion API, on the replay's virtual clock. Latency is log-normal with a median of 800 ms,
/// plus a slow minority (long generations, provider queueing) that makes the long tail. A fraction
/// <c>faultRate</c> of calls fails: most with a 503 after a short wait, the rest hang until the client gives up
/// (HttpClient's default 100 s) or the caller's timeout cancels them.
/// </summary>
/// <remarks>
/// Every draw is a function of the seed, the request (session and revision; for the FAQ traffic, whose question and
/// the content version it is asked against) and how many times that request was already sent, not of the order in
/// which concurrent calls happen to reach the model, so every way sees the same model behaviour for the same request.
/// </remarks>
public sealed class SimulatedModel(TimeProvider clock, int seed, double faultRate)
{
    public const double MedianLatencyMs = 800;
    public const double LatencySigma = 0.5;
    public const double SlowShare = 0.03;
    public const double SlowMedianLatencyMs = 4_000;
    public const double SlowLatencySigma = 0.8;

    /// <summary>Of the failing calls, the share that hang instead of answering 503.</summary>
    public const double HangShareOfFaults = 0.2;

    public const double OverloadedMedianLatencyMs = 300;

    /// <summary>How long a hung call lasts when nothing cancels it: HttpClient's default timeout.</summary>
    public static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(100);

    private readonly ConcurrentDictionary<(int First, int Second), int> _sent = new();
    private int _calls;
    private int _failures;

    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Calls that ended in an exception: 503s, hangs cut by a timeout or the client, cancellations.</summary>
    public int Failures => Volatile.Read(ref _failures);

    public double FaultRate => faultRate;

    public async Task<Answer> CompleteAsync(int session, int revision, CancellationToken cancellationToken)
    {
        await CallAsync(session, revision, cancellationToken).ConfigureAwait(false);
        return new Answer(session, revision, FromFallback: false);
    }

    /// <summary>
    /// One model call for the request identified by (<paramref name="first"/>, <paramref name="second"/>): it ends when
    /// the model has answered, or throws as the model fails. The caller builds its answer.
    /// </summary>
    public async Task CallAsync(int first, int second, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        int ordinal = _sent.AddOrUpdate((first, second), 0, static (_, sent) => sent + 1);
        var draws = new Draws(seed, first, second, ordinal);
        try
        {
            if (draws.Next() < faultRate)
            {
                if (draws.Next() < HangShareOfFaults)
                {
                    await Task.Delay(ClientTimeout, clock, cancellationToken).ConfigureAwait(false);
                    throw new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing.", new TimeoutException());
                }

                await Task.Delay(Milliseconds(Distributions.LogNormal(OverloadedMedianLatencyMs, LatencySigma, draws.Normal())), clock, cancellationToken).ConfigureAwait(false);
                throw new HttpRequestException("The model is overloaded.", null, HttpStatusCode.ServiceUnavailable);
            }

            double latencyMs = draws.Next() < SlowShare
                ? Distributions.LogNormal(SlowMedianLatencyMs, SlowLatencySigma, draws.Normal())
                : Distributions.LogNormal(MedianLatencyMs, LatencySigma, draws.Normal());
            await Task.Delay(Milliseconds(latencyMs), clock, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _failures);
            throw;
        }
    }

    private static TimeSpan Milliseconds(double value) => TimeSpan.FromTicks((long)(value * TimeSpan.TicksPerMillisecond));

    /// <summary>Uniform draws from a hash of (seed, request, ordinal): SplitMix64.</summary>
    private struct Draws(int seed, int first, int second, int ordinal)
    {
        private ulong _state = ((ulong)(uint)seed << 32 ^ (ulong)(uint)first) * 0x9E3779B97F4A7C15UL
            ^ ((ulong)(uint)second << 20 ^ (ulong)(uint)ordinal) * 0xC2B2AE3D27D4EB4FUL;

        public double Next()
        {
            ulong z = _state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            return (z >> 11) * (1.0 / (1UL << 53));
        }

        public double Normal() => Distributions.StandardNormal(Next(), Next());
    }
}
