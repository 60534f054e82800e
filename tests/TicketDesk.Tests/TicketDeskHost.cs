using System;
using System.Collections.Generic;
using System.IO;
using System.Net.Http;
using System.Threading.Tasks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Simulation;
using TicketDesk.Model;

namespace TicketDesk.Tests;

/// <summary>
/// The sample's real Program in memory, calling a simulated provider on a random loopback port that this test
/// started, with its usage table in a temporary file.
/// </summary>
internal sealed class TicketDeskHost : IAsyncDisposable
{
    private readonly WebApplicationFactory<Program> _factory;
    private readonly string _databasePath;

    private TicketDeskHost(
        SimulatedProvider provider, RequestArrivals arrivals, ReloadableSettings settings, FakeLogCollector logs, WebApplicationFactory<Program> factory, string databasePath)
    {
        Provider = provider;
        Arrivals = arrivals;
        Settings = settings;
        Logs = logs;
        _factory = factory;
        _databasePath = databasePath;
    }

    public SimulatedProvider Provider { get; }

    public RequestArrivals Arrivals { get; }

    public IServiceProvider Services => _factory.Services;

    /// <summary>The host's last configuration source: its values win over appsettings.json, and changing one reloads.</summary>
    public ReloadableSettings Settings { get; }

    /// <summary>Every log entry the service wrote, whatever its category.</summary>
    public FakeLogCollector Logs { get; }

    /// <summary>
    /// Starts a provider that answers at once like TicketDesk's model (unless <paramref name="configure"/> says
    /// otherwise) and the service in front of it, on <paramref name="timeProvider"/> when given, with
    /// <paramref name="settings"/> over its appsettings.json.
    /// </summary>
    public static async Task<TicketDeskHost> StartAsync(
        Func<SimulatedProviderOptions, SimulatedProviderOptions>? configure = null,
        TimeProvider? timeProvider = null,
        IReadOnlyDictionary<string, string?>? settings = null,
        FakeLogCollector? logs = null)
    {
        var options = new SimulatedProviderOptions
        {
            RateLimitedRate = 0,
            UnavailableRate = 0,
            HangRate = 0,
            MinLatency = TimeSpan.Zero,
            MaxLatency = TimeSpan.Zero,
            ChunkInterval = TimeSpan.Zero,
            Answer = SimulatedAnswers.Answer,
        };
        SimulatedProvider provider = await SimulatedProvider.StartAsync(configure?.Invoke(options) ?? options);
        string databasePath = Path.Combine(Path.GetTempPath(), $"ticketdesk-tests-{Guid.NewGuid():N}.db");
        var arrivals = new RequestArrivals();
        var reloadable = new ReloadableSettings(settings);
        logs ??= new FakeLogCollector();
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            web.UseSetting("Model:Endpoint", provider.Endpoint.ToString());
            web.UseSetting("Model:ApiKey", "simulated-provider-accepts-any-key");
            web.UseSetting("Usage:DatabasePath", databasePath);

            // The tests read metrics through the host's IMeterFactory; the console exporter would only add noise.
            web.UseSetting("Telemetry:Console", "false");
            web.ConfigureAppConfiguration(configuration => configuration.Add(reloadable));
            web.ConfigureTestServices(services =>
            {
                services.AddSingleton<IStartupFilter>(arrivals);
                services.AddSingleton<ILoggerProvider>(new FakeLoggerProvider(logs));
                if (timeProvider is not null)
                {
                    services.AddSingleton(timeProvider);
                }
            });
        });

        // Starts the host and builds its routing matcher, which concurrent first requests would wait for (see
        // RequestArrivals); a GET is not counted as an arrival.
        try
        {
            using HttpClient warmUp = factory.CreateClient();
            using HttpResponseMessage ready = await warmUp.GetAsync("/usage/daily");
            ready.EnsureSuccessStatusCode();
        }
        catch
        {
            // A host that fails to start (invalid configuration) still owns the provider and the database file.
            await DisposeAsync(factory, provider, databasePath);
            throw;
        }

        return new TicketDeskHost(provider, arrivals, reloadable, logs, factory, databasePath);
    }

    public HttpClient CreateClient(string? tenant = null, string? user = null)
    {
        HttpClient client = _factory.CreateClient();
        if (tenant is not null)
        {
            client.DefaultRequestHeaders.Add("X-Tenant", tenant);
        }

        if (user is not null)
        {
            client.DefaultRequestHeaders.Add("X-User", user);
        }

        return client;
    }

    public ValueTask DisposeAsync() => DisposeAsync(_factory, Provider, _databasePath);

    private static async ValueTask DisposeAsync(WebApplicationFactory<Program> factory, SimulatedProvider provider, string databasePath)
    {
        await factory.DisposeAsync();
        await provider.DisposeAsync();

        // SQLite keeps pooled connections to the file open; clearing the pool lets it be deleted.
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(databasePath);
    }
}
