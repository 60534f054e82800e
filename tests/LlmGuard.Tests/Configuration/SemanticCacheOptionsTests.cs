using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Tests.Caching;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Configuration;

/// <summary>
/// The semantic cache's scene settings: bound from configuration, checked at start-up like every scene key (the
/// message names the scene, the key and what is allowed), and applied to the runtime <c>AddLlmGuard()</c> creates,
/// with the container's embedding generator.
/// </summary>
public sealed class SemanticCacheOptionsTests : IDisposable
{
    private readonly List<ServiceProvider> _providers = [];

    public void Dispose()
    {
        foreach (ServiceProvider provider in _providers)
        {
            provider.Dispose();
        }
    }

    [Theory]
    [InlineData("LlmGuard:Scenes:semantic_ask:SemanticThreshold", "0",
        "LlmGuard:Scenes:semantic_ask:SemanticThreshold is 0, out of range; allowed: above 0, up to 1.")]
    [InlineData("LlmGuard:Scenes:semantic_ask:SemanticThreshold", "1.5",
        "LlmGuard:Scenes:semantic_ask:SemanticThreshold is 1.5, out of range; allowed: above 0, up to 1.")]
    [InlineData("LlmGuard:Scenes:semantic_ask:SemanticMaxEntries", "0",
        "LlmGuard:Scenes:semantic_ask:SemanticMaxEntries is 0, out of range; allowed: 1 to 2147483647.")]
    [InlineData("LlmGuard:Scenes:cache_ask:SemanticCache", "true",
        "LlmGuard:Scenes:cache_ask:SemanticCache is true, but LlmGuard.Tests.Caching.CachedAssistant.AskAsync has no [SemanticCacheText] parameter; " +
        "allowed: false, or mark the string parameter whose text is compared [SemanticCacheText] first.")]
    [InlineData("LlmGuard:Scenes:semantic_ask:SemanticTreshold", "0.9",
        "LlmGuard:Scenes:semantic_ask:SemanticTreshold is not a scene setting; the keys are TimeoutMs, MaxRetries, RetryDelayMs, MaxRetryAfterMs, MergeWindowMs, MergeMaxWaitMs, CacheSeconds, SemanticCache, SemanticThreshold, SemanticMaxEntries, BreakerFailureRatio, BreakerMinimumThroughput, BreakerSamplingMs, BreakerBreakMs, MaxConcurrency, MaxQueue, RateLimit, RateLimitWindowMs, TenantMaxConcurrency, TenantRateLimit, FirstItemTimeoutMs, IdleTimeoutMs, StreamReplayItems, Distributed.")]
    public void Start_up_validation_names_the_scene_the_semantic_key_and_what_is_allowed(string key, string value, string message)
    {
        ServiceProvider provider = Host(new() { [key] = value });

        OptionsValidationException failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Equal(message, Assert.Single(failure.Failures));
    }

    [Fact]
    public void A_standalone_runtime_refuses_a_threshold_out_of_range()
    {
        var options = new LlmGuardOptions { Scenes = { [SemanticAssistant.AskScene] = new LlmSceneOptions { SemanticThreshold = double.NaN } } };

        ArgumentException failure = Assert.Throws<ArgumentException>(() => new GuardRuntime() { Options = options });

        Assert.Contains("LlmGuard:Scenes:semantic_ask:SemanticThreshold is NaN, out of range; allowed: above 0, up to 1.", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_hosted_runtime_uses_the_containers_embedding_generator_and_the_configured_threshold()
    {
        // At 0.8 the negation pitfall shows: proof that both the generator and the configured threshold are in use.
        var embeddings = new BagOfWordsEmbeddingGenerator();
        ServiceProvider provider = Host(
            new()
            {
                ["LlmGuard:Scenes:semantic_ask:SemanticCache"] = "true",
                ["LlmGuard:Scenes:semantic_ask:SemanticThreshold"] = "0.8",
            },
            services => services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(embeddings));
        provider.GetRequiredService<IStartupValidator>().Validate();
        GuardRuntime runtime = provider.GetRequiredService<GuardRuntime>();
        var assistant = new SemanticAssistant(runtime);

        await assistant.AskAsync("cancel my order");
        CachedReply answer = await assistant.AskAsync("don't cancel my order");

        Assert.Same(embeddings, runtime.EmbeddingGenerator);
        Assert.Equal("answer to cancel my order", answer.Text);
        Assert.Equal(2, embeddings.Calls);
    }

    [Fact]
    public void The_scene_manifest_marks_the_methods_with_a_compared_text()
    {
        Assert.Contains(GuardSceneManifest.Scenes, scene => scene.Scene == SemanticAssistant.AskScene && scene.SemanticText);
        Assert.Contains(GuardSceneManifest.Scenes, scene => scene.Scene == "cache_ask" && !scene.SemanticText);
    }

    private ServiceProvider Host(Dictionary<string, string?> settings, Action<IServiceCollection>? register = null)
    {
        IConfigurationRoot configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton<TimeProvider>(new FakeTimeProvider());
        register?.Invoke(services);
        services.AddLlmGuard();
        ServiceProvider provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider;
    }
}
