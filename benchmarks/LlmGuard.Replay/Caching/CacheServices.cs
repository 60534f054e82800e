using System;
using System.Diagnostics.Metrics;
using System.Threading;
using LlmGuard.Replay.VirtualTime;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Internal;

namespace LlmGuard.Replay.Caching;

/// <summary>
/// What a cached run gives its <see cref="GuardRuntime"/>: a real <see cref="HybridCache"/> from <c>AddHybridCache()</c>
/// on the replay's virtual clock, and a meter factory whose <c>llmguard.calls</c> counter tells how many callers the
/// cache answered. HybridCache reads the registered <see cref="TimeProvider"/>, but its in-memory level is a
/// <see cref="MemoryCache"/> that expires entries on its own <see cref="ISystemClock"/>, so both get the virtual time.
/// One per run: no answer survives into the next way.
/// </summary>
internal sealed class CacheServices : IDisposable
{
    // The runtime's wire names (LlmGuard's TelemetryNames), as a dashboard would read them.
    private const string CallsInstrument = "llmguard.calls";
    private const string OutcomeTag = "llmguard.outcome";
    private const string CachedOutcome = "cached";

    private readonly ServiceProvider _services;
    private readonly MeterListener _listener = new();
    private long _cachedCalls;

    public CacheServices(VirtualTimeProvider clock)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.Configure<MemoryCacheOptions>(options => options.Clock = new VirtualSystemClock(clock));
        services.AddHybridCache();
        services.AddMetrics();
        _services = services.BuildServiceProvider();
        HybridCache = _services.GetRequiredService<HybridCache>();
        MeterFactory = _services.GetRequiredService<IMeterFactory>();

        // Only this run's meters: the factory is their scope.
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == MeterFactory && instrument.Name == CallsInstrument)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == OutcomeTag && tag.Value is CachedOutcome)
                {
                    Interlocked.Add(ref _cachedCalls, value);
                }
            }
        });
        _listener.Start();
    }

    public HybridCache HybridCache { get; }

    public IMeterFactory MeterFactory { get; }

    /// <summary>Callers answered from the cache, without an execution.</summary>
    public int CachedCalls => (int)Interlocked.Read(ref _cachedCalls);

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }

    private sealed class VirtualSystemClock(TimeProvider clock) : ISystemClock
    {
        public DateTimeOffset UtcNow => clock.GetUtcNow();
    }
}
