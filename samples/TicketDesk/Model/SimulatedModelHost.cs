using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Simulation;

namespace TicketDesk.Model;

/// <summary>
/// Runs the simulated provider for as long as the service runs, when no model endpoint is configured, so the
/// sample answers without an API key.
/// </summary>
public sealed partial class SimulatedModelHost(IOptions<ModelOptions> options, ILogger<SimulatedModelHost> logger) : IHostedService, IAsyncDisposable
{
    private SimulatedProvider? _provider;

    /// <summary>The simulated provider's base address, once the host has started it (only when no endpoint is configured).</summary>
    public Uri Endpoint => _provider?.Endpoint ?? throw new InvalidOperationException("The simulated provider has not started yet.");

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Endpoint is not null)
        {
            return;
        }

        // A busy provider, as in the QuickStart, answering like a ticket desk's model would; the models configured
        // under Model:Simulated behave as configured (a model down, or slow, for the degradation demo).
        var busy = new SimulatedProviderOptions { Answer = SimulatedAnswers.Answer };
        _provider = await SimulatedProvider.StartAsync(busy with
        {
            Models = options.Value.Simulated.ToDictionary(model => model.Key, model => model.Value.Apply(busy), StringComparer.Ordinal),
        });
        SimulatedProviderStarted(logger, _provider.Endpoint);
        foreach ((string model, SimulatedProviderOptions behaviour) in _provider.Options.Models!)
        {
            SimulatedModelConfigured(
                logger, model, behaviour.RateLimitedRate, behaviour.UnavailableRate, behaviour.HangRate, behaviour.MinLatency.TotalMilliseconds, behaviour.MaxLatency.TotalMilliseconds,
                behaviour.ChunkInterval.TotalMilliseconds);
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => DisposeAsync().AsTask();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _provider, null) is { } provider)
        {
            await provider.DisposeAsync();
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "No Model:Endpoint configured: the simulated provider answers at {Endpoint} (150-450 ms, with 429s, 503s and hangs)")]
    private static partial void SimulatedProviderStarted(ILogger logger, Uri endpoint);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Model:Simulated:{Model}: the simulated provider treats its requests with HangRate {HangRate}, RateLimitedRate {RateLimitedRate}, UnavailableRate {UnavailableRate}, latency {MinLatencyMs}-{MaxLatencyMs} ms, {ChunkIntervalMs} ms between streamed chunks")]
    private static partial void SimulatedModelConfigured(
        ILogger logger, string model, double rateLimitedRate, double unavailableRate, double hangRate, double minLatencyMs, double maxLatencyMs, double chunkIntervalMs);
}
