using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;

namespace LlmGuard.Tests.Caching;

/// <summary>AddLlmGuard gives the runtime the container's HybridCache, registering the in-memory one when none is.</summary>
public sealed class HybridCacheRegistrationTests
{
    [Fact]
    public void AddLlmGuard_registers_a_HybridCache_when_none_is_and_gives_it_to_the_runtime()
    {
        var services = new ServiceCollection();
        services.AddLlmGuard();
        using ServiceProvider provider = services.BuildServiceProvider();

        HybridCache registered = provider.GetRequiredService<HybridCache>();

        Assert.Same(registered, provider.GetRequiredService<GuardRuntime>().HybridCache);
    }
}
