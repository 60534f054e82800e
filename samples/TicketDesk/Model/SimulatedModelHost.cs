using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Simulation;

namespace TicketDesk.Model;

/// <summary>
/// Runs the simulated provider for as long as the service runs, when no model endpoint is configured, so the
/// sample answers without an API key.
/// </summary>
public sealed class SimulatedModelHost(IOptions<ModelOptions> options) : IHostedService, IAsyncDisposable
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

        // A busy provider, as in the QuickStart, answering like a ticket desk's model would.
        _provider = await SimulatedProvider.StartAsync(new SimulatedProviderOptions { Answer = SimulatedAnswers.Answer });
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
}
