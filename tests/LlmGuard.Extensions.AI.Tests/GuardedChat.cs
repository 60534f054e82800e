using System;
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using OpenAI;
using OpenAI.Chat;

namespace LlmGuard.Extensions.AI.Tests;

/// <summary>
/// A hosted pipeline as an application builds it: <c>AddLlmGuard()</c> on a fake clock, and the real OpenAI SDK as an
/// <see cref="IChatClient"/> registered with <c>AddChatClient(...).UseLlmGuard(...)</c>, sending to a loopback server.
/// </summary>
internal sealed class GuardedChat : IAsyncDisposable
{
    public const string Completion = """
        {"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini",
         "choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],
         "usage":{"prompt_tokens":11,"completion_tokens":7,"total_tokens":18}}
        """;

    private readonly ServiceProvider _services;
    private bool _ownsServer = true;

    private GuardedChat(ModelServer server, Action<LlmGuardChatClientOptions>? configure, Action<LlmGuardOptions>? options, Action<IServiceCollection>? register)
    {
        Server = server;
        var services = new ServiceCollection();
        register?.Invoke(services);

        // A test that registers a clock of its own (to see the timers the runtime schedules) keeps it.
        services.TryAddSingleton<TimeProvider>(Time);
        services.AddMetrics();
        if (options is null)
        {
            services.AddLlmGuard();
        }
        else
        {
            services.AddLlmGuard(options);
        }

        services.AddChatClient(Client(server.BaseAddress).AsIChatClient()).UseLlmGuard(configure: configure);
        _services = services.BuildServiceProvider();
        Chat = _services.GetRequiredService<IChatClient>();
    }

    public ModelServer Server { get; }

    /// <summary>Gets the runtime's and HybridCache's clock, unless the test registered another <see cref="TimeProvider"/>.</summary>
    public RecordingTimeProvider Time { get; } = new();

    public IChatClient Chat { get; }

    /// <summary>Gets a service of the pipeline's container.</summary>
    public T Service<T>()
        where T : notnull => _services.GetRequiredService<T>();

    public GuardRuntime Runtime => _services.GetRequiredService<GuardRuntime>();

    public static async Task<GuardedChat> StartAsync(Action<LlmGuardChatClientOptions>? configure, params ServerReply[] replies) =>
        new(await ModelServer.StartAsync(replies), configure, options: null, register: null);

    public static async Task<GuardedChat> StartAsync(Action<LlmGuardChatClientOptions>? configure, Action<LlmGuardOptions> options, params ServerReply[] replies) =>
        new(await ModelServer.StartAsync(replies), configure, options, register: null);

    /// <summary>Starts a pipeline whose container first receives <paramref name="register"/>'s services (a cache, a logger).</summary>
    public static async Task<GuardedChat> StartAsync(Action<LlmGuardChatClientOptions>? configure, Action<IServiceCollection> register, params ServerReply[] replies) =>
        new(await ModelServer.StartAsync(replies), configure, options: null, register);

    /// <summary>
    /// Starts a second pipeline, as another process of the same application, on <paramref name="other"/>'s model
    /// server, which <paramref name="other"/> keeps and disposes.
    /// </summary>
    public static GuardedChat BesideOf(GuardedChat other, Action<LlmGuardChatClientOptions>? configure, Action<IServiceCollection> register) =>
        new(other.Server, configure, options: null, register) { _ownsServer = false };

    /// <summary>A client whose own retries are off, so every HTTP request the server sees is one attempt of the guard.</summary>
    public static ChatClient Client(Uri server) => new(
        model: "gpt-4o-mini",
        credential: new ApiKeyCredential("test-key"),
        options: new OpenAIClientOptions
        {
            Endpoint = new Uri(server, "v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        });

    /// <summary>Listens to one instrument of this host's <c>LlmGuard</c> meter; create it before the calls it counts.</summary>
    public MetricCollector<T> Collect<T>(string instrument)
        where T : struct => new(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), "LlmGuard", instrument);

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        if (_ownsServer)
        {
            await Server.DisposeAsync();
        }
    }
}
