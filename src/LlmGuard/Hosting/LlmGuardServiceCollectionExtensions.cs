using System;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Text.Json;
using LlmGuard;
using LlmGuard.Configuration;
using LlmGuard.Failures;
using LlmGuard.Hosting;
using LlmGuard.Profiles;
using LlmGuard.Usage;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers LlmGuard's <see cref="GuardRuntime"/> in a service collection.</summary>
public static class LlmGuardServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="GuardRuntime"/> singleton built from the container: its <see cref="TimeProvider"/>
    /// (<see cref="TimeProvider.System"/> unless one is registered), <see cref="ILoggerFactory"/> and
    /// <see cref="IMeterFactory"/> and <see cref="FailureClassifier"/> when registered, and <see cref="LlmGuardOptions"/> bound from the configuration
    /// section <c>LlmGuard</c> when an <c>IConfiguration</c> is registered, validated at start-up and reloaded with it.
    /// Cached methods store their answers in the registered <see cref="HybridCache"/>; when none is registered yet,
    /// <c>AddHybridCache()</c> registers one (with a registered <c>IDistributedCache</c> as its second level), except in
    /// a trimmed or native AOT app, which registers its own (its default serializer needs reflection).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder for further LlmGuard setup.</returns>
    public static ILlmGuardBuilder AddLlmGuard(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<LlmGuardOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<LlmGuardOptions>, LlmGuardConfigurationBinder>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LlmGuardOptions>, LlmGuardOptionsValidator>());
        services.TryAddSingleton<LlmGuardConfigurationWatcher>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOptionsChangeTokenSource<LlmGuardOptions>, LlmGuardConfigurationWatcher>(
            static provider => provider.GetRequiredService<LlmGuardConfigurationWatcher>()));
        // HybridCache's default serializer is reflection-based System.Text.Json, which a trimmed or native AOT app turns
        // off (and the trimmer then removes this branch): such an app registers its cache itself, with a serializer
        // for its results (see LlmGuardCacheSerializerFactory).
        if (JsonSerializer.IsReflectionEnabledByDefault && !services.Any(static service => service.ServiceType == typeof(HybridCache)))
        {
            services.AddHybridCache();
        }

        services.TryAddSingleton(CreateRuntime);
        services.TryAddSingleton(static provider => new LlmModelProfiles(provider));
        return new LlmGuardBuilder(services);
    }

    /// <summary>
    /// Registers LlmGuard as <see cref="AddLlmGuard(IServiceCollection)"/> does, then applies <paramref name="configure"/>
    /// to the options after configuration is bound, so its values win.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets options in code.</param>
    /// <returns>A builder for further LlmGuard setup.</returns>
    public static ILlmGuardBuilder AddLlmGuard(this IServiceCollection services, Action<LlmGuardOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        ILlmGuardBuilder builder = services.AddLlmGuard();
        services.Configure(configure);
        return builder;
    }

    private static GuardRuntime CreateRuntime(IServiceProvider services)
    {
        IOptionsMonitor<LlmGuardOptions> options = services.GetRequiredService<IOptionsMonitor<LlmGuardOptions>>();
        var runtime = new GuardRuntime(services.GetRequiredService<TimeProvider>())
        {
            FailureClassifier = services.GetService<FailureClassifier>(),
            LoggerFactory = services.GetService<ILoggerFactory>(),
            MeterFactory = services.GetService<IMeterFactory>(),
            Options = options.CurrentValue,
            UsageSinks = [.. services.GetServices<ILlmUsageSink>()],
            HybridCache = services.GetService<HybridCache>(),
            EmbeddingGenerator = services.GetService<IEmbeddingGenerator<string, Embedding<float>>>(),
            DistributedFlights = services.GetService<LlmGuard.Distribution.IDistributedFlights>(),
            DistributedBudgets = services.GetService<LlmGuard.Distribution.IDistributedBudgets>(),
        };

        // The monitor holds the listener for the container's lifetime, which is the runtime's too.
        _ = options.OnChange(runtime.Reconfigure);
        return runtime;
    }
}
