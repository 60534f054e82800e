using System;
using System.Diagnostics.Metrics;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Caching;

/// <summary>
/// A real <see cref="HybridCache"/> from <c>AddHybridCache()</c>, on a fake clock. HybridCache reads the registered
/// <see cref="TimeProvider"/>, but its in-memory level is a <see cref="MemoryCache"/>, which expires entries on its
/// own <see cref="ISystemClock"/>: both are given the same fake time.
/// </summary>
internal sealed class CacheTestHost : IDisposable
{
    private readonly ServiceProvider _services;

    /// <param name="options">The runtime's options.</param>
    /// <param name="embeddingGenerator">What the semantic cache embeds texts with; none when null.</param>
    /// <param name="loggerFactory">The runtime's logging; none when null.</param>
    /// <param name="distributedCache">
    /// HybridCache's second level, shared by the hosts given the same one as processes share a Redis; none by default.
    /// </param>
    /// <param name="serializers">How entries are serialized for the second level; HybridCache's default when null.</param>
    /// <param name="time">The clock; a host of its own by default, shared by hosts that stand for processes of one moment.</param>
    public CacheTestHost(
        LlmGuardOptions? options = null,
        IEmbeddingGenerator<string, Embedding<float>>? embeddingGenerator = null,
        ILoggerFactory? loggerFactory = null,
        IDistributedCache? distributedCache = null,
        IHybridCacheSerializerFactory? serializers = null,
        FakeTimeProvider? time = null)
    {
        Time = time ?? new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        var services = new ServiceCollection();
        if (distributedCache is not null)
        {
            services.AddSingleton(distributedCache);
        }

        services.AddSingleton<TimeProvider>(Time);
        services.Configure<MemoryCacheOptions>(options => options.Clock = new FakeSystemClock(Time));
        IHybridCacheBuilder cache = services.AddHybridCache();
        if (serializers is not null)
        {
            cache.AddSerializerFactory(serializers);
        }

        services.AddMetrics();
        _services = services.BuildServiceProvider();
        Cache = _services.GetRequiredService<HybridCache>();
        Meters = _services.GetRequiredService<IMeterFactory>();
        Runtime = new GuardRuntime(Time)
        {
            HybridCache = Cache,
            MeterFactory = Meters,
            Options = options,
            EmbeddingGenerator = embeddingGenerator,
            LoggerFactory = loggerFactory,
        };
    }

    public FakeTimeProvider Time { get; }

    public HybridCache Cache { get; }

    public IMeterFactory Meters { get; }

    public GuardRuntime Runtime { get; }

    /// <summary>
    /// A distributed cache in memory that expires its entries on <paramref name="time"/>, as a Redis would on real time.
    /// </summary>
    public static RecordingDistributedCache DistributedCache(FakeTimeProvider time) =>
        new(new MemoryDistributedCacheOptions { Clock = new FakeSystemClock(time) });

    public void Dispose()
    {
        Runtime.Dispose();
        _services.Dispose();
    }

    private sealed class FakeSystemClock(TimeProvider time) : ISystemClock
    {
        public DateTimeOffset UtcNow => time.GetUtcNow();
    }
}
