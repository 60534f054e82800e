using System;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace QuickStart;

/// <summary>
/// Stands in for a chat-completion API: 150–450 ms per call, some calls fail with 503, a few hang until cancelled.
/// </summary>
public sealed class SimulatedModel(int seed, double faultRate, double hangRate)
{
    private readonly Random _random = new(seed);
    private int _calls;
    private int _faults;

    public int Calls => Volatile.Read(ref _calls);

    public int Faults => Volatile.Read(ref _faults);

    public async Task<string> CompleteAsync(string prompt, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        double roll;
        int latencyMs;
        lock (_random)
        {
            roll = _random.NextDouble();
            latencyMs = _random.Next(150, 450);
        }

        if (roll < hangRate)
        {
            Interlocked.Increment(ref _faults);
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        await Task.Delay(latencyMs, cancellationToken);
        if (roll < hangRate + faultRate)
        {
            Interlocked.Increment(ref _faults);
            throw new HttpRequestException("The model is overloaded.", null, HttpStatusCode.ServiceUnavailable);
        }

        return $"Thanks for waiting: {prompt.Length} characters considered, your order is on its way.";
    }
}
