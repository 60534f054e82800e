using System;
using System.Diagnostics.CodeAnalysis;
using LlmGuard.Configuration;
using LlmGuard.Profiles;
using LlmGuard.Usage;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LlmGuard.Hosting;

/// <summary>Further LlmGuard setup, chained from <c>AddLlmGuard()</c>.</summary>
public static class LlmGuardBuilderExtensions
{
    /// <summary>
    /// Registers <typeparamref name="TSink"/> as a singleton that receives the usage record of every execution, in
    /// batches, off the callers' path.
    /// </summary>
    /// <typeparam name="TSink">The sink; resolved from the container, so it may take services in its constructor.</typeparam>
    /// <param name="builder">The builder returned by <c>AddLlmGuard()</c>.</param>
    /// <returns>The same builder.</returns>
    public static ILlmGuardBuilder AddUsageSink<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TSink>(this ILlmGuardBuilder builder)
        where TSink : class, ILlmUsageSink
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<ILlmUsageSink, TSink>();
        return builder;
    }

    /// <summary>
    /// Registers the model profile <paramref name="name"/> as a keyed <see cref="IChatClient"/> service under its name,
    /// so a constructor receives it with <c>[FromKeyedServices("fast")] IChatClient fast</c>, and applies
    /// <paramref name="configure"/> to its settings after configuration is bound (<c>LlmGuard:Profiles:&lt;name&gt;</c>).
    /// </summary>
    /// <param name="builder">The builder returned by <c>AddLlmGuard()</c>.</param>
    /// <param name="name">The profile's name.</param>
    /// <param name="configure">Sets the profile's strategy, models and breaker in code; <see langword="null"/> to take them from configuration only.</param>
    /// <returns>The same builder.</returns>
    public static ILlmGuardBuilder AddModelProfile(this ILlmGuardBuilder builder, string name, Action<LlmModelProfileOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        builder.Services.TryAddKeyedSingleton<IChatClient>(name, static (provider, key) => provider.GetRequiredService<LlmModelProfiles>().Get((string)key!));

        // Creating the entry even without code settings makes a profile missing from configuration fail validation at
        // start-up ("Models has 0 models") instead of at its first request.
        builder.Services.Configure<LlmGuardOptions>(options =>
        {
            if (!options.Profiles.TryGetValue(name, out LlmModelProfileOptions? profile) || profile is null)
            {
                profile = new LlmModelProfileOptions();
                options.Profiles[name] = profile;
            }

            configure?.Invoke(profile);
        });
        return builder;
    }
}
