using System;
using LlmGuard;
using LlmGuard.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.Extensions.AI;

/// <summary>Adds LlmGuard to a <see cref="ChatClientBuilder"/> pipeline.</summary>
public static class LlmGuardChatClientBuilderExtensions
{
    /// <summary>
    /// Adds an <see cref="LlmGuardChatClient"/> to the pipeline: each request below this point runs through LlmGuard's
    /// runtime (singleflight by a key derived from the messages, options and call context; timeout, classified retries,
    /// cache, telemetry). Streaming requests with one key share one upstream stream, with the scene's deadlines to the
    /// first update and between updates and its retries before the first update; a completed stream is cached like a
    /// response.
    /// </summary>
    /// <param name="builder">The pipeline.</param>
    /// <param name="runtime">
    /// The runtime the requests run on; when <see langword="null"/>, the <see cref="GuardRuntime"/> registered in the
    /// builder's services (by <c>AddLlmGuard()</c>), else <see cref="GuardRuntime.Default"/>.
    /// </param>
    /// <param name="configure">Sets the client's scene and settings; configuration of the scene overrides them.</param>
    /// <returns><paramref name="builder"/>.</returns>
    /// <remarks>
    /// Place it below <c>UseFunctionInvocation()</c>, so each model round trip is guarded and the tools run in each
    /// caller's own flow. The settings are read and checked here, once; every client the builder builds shares the
    /// requests in flight of this call's scene.
    /// </remarks>
    /// <exception cref="ArgumentException">The scene is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is outside its range.</exception>
    /// <exception cref="InvalidOperationException">
    /// Another <c>UseLlmGuard()</c> or <see cref="LlmGuardChatClient"/> of the same scene has other settings
    /// (timeout, retries, retry delays, cache duration, stream deadlines and replay bound): a scene has one set of settings.
    /// </exception>
    public static ChatClientBuilder UseLlmGuard(this ChatClientBuilder builder, GuardRuntime? runtime = null, Action<LlmGuardChatClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new LlmGuardChatClientOptions();
        configure?.Invoke(options);
        LlmGuardChatClient.ChatClientMethods methods = LlmGuardChatClient.CreateMethods(options);
        System.Text.Json.JsonSerializerOptions? json = options.JsonSerializerOptions;
        var fallback = options.Fallback;
        return builder.Use((innerClient, services) =>
            new LlmGuardChatClient(innerClient, runtime ?? services.GetService<GuardRuntime>() ?? GuardRuntime.Default, methods, json, fallback));
    }
}
