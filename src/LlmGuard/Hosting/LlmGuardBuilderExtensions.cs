using System;
using System.Diagnostics.CodeAnalysis;
using LlmGuard.Usage;
using Microsoft.Extensions.DependencyInjection;

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
}
