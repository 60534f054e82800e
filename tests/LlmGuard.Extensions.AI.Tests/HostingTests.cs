using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using LlmGuard.Configuration;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace LlmGuard.Extensions.AI.Tests;

/// <summary>Which runtime a client built by <c>UseLlmGuard()</c> runs on, and how its settings are checked.</summary>
public sealed class HostingTests
{
    private static readonly IChatClient s_unused = GuardedChat.Client(new Uri("http://127.0.0.1:9")).AsIChatClient();

    [Fact]
    public void The_client_runs_on_the_runtime_AddLlmGuard_registered()
    {
        var services = new ServiceCollection();
        services.AddLlmGuard();
        services.AddChatClient(s_unused).UseLlmGuard();
        using ServiceProvider provider = services.BuildServiceProvider();

        LlmGuardChatClient guard = provider.GetRequiredService<IChatClient>().GetService<LlmGuardChatClient>()!;

        Assert.Same(provider.GetRequiredService<GuardRuntime>(), guard.Runtime);
        Assert.Equal(LlmGuardChatClientOptions.DefaultScene, guard.Scene);
    }

    [Fact]
    public void Without_AddLlmGuard_the_client_runs_on_the_default_runtime()
    {
        IChatClient chat = new ChatClientBuilder(s_unused).UseLlmGuard(configure: options => options.Scene = "faq_chat").Build();

        LlmGuardChatClient guard = chat.GetService<LlmGuardChatClient>()!;

        Assert.Same(GuardRuntime.Default, guard.Runtime);
        Assert.Equal("faq_chat", guard.Scene);
    }

    [Fact]
    public void A_runtime_passed_to_UseLlmGuard_wins_over_the_registered_one()
    {
        var runtime = new GuardRuntime();
        var services = new ServiceCollection();
        services.AddLlmGuard();
        services.AddChatClient(s_unused).UseLlmGuard(runtime);
        using ServiceProvider provider = services.BuildServiceProvider();

        Assert.Same(runtime, provider.GetRequiredService<IChatClient>().GetService<LlmGuardChatClient>()!.Runtime);
    }

    [Fact]
    public void Settings_out_of_range_fail_when_the_pipeline_is_declared()
    {
        var builder = new ChatClientBuilder(s_unused);

        Assert.Throws<ArgumentOutOfRangeException>(() => builder.UseLlmGuard(configure: options => options.MaxRetries = -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => builder.UseLlmGuard(configure: options => options.TimeoutMs = 5));
        Assert.Throws<ArgumentException>(() => builder.UseLlmGuard(configure: options => options.Scene = ""));
    }

    [Fact]
    public void A_second_UseLlmGuard_of_a_scene_with_other_settings_throws_naming_the_scene()
    {
        var builder = new ChatClientBuilder(s_unused);
        builder.UseLlmGuard(configure: options => (options.Scene, options.TimeoutMs) = ("twice_chat", 5_000));

        // The same settings again (a second host of the application) are the same scene.
        builder.UseLlmGuard(configure: options => (options.Scene, options.TimeoutMs) = ("twice_chat", 5_000));
        InvalidOperationException failure = Assert.Throws<InvalidOperationException>(
            () => builder.UseLlmGuard(configure: options => (options.Scene, options.TimeoutMs) = ("twice_chat", 6_000)));

        Assert.Contains("'twice_chat'", failure.Message, StringComparison.Ordinal);
        Assert.Contains("TimeoutMs 6000", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_second_UseLlmGuard_of_a_scene_with_other_stream_settings_throws()
    {
        var builder = new ChatClientBuilder(s_unused);
        builder.UseLlmGuard(configure: options => (options.Scene, options.IdleTimeoutMs) = ("twice_stream_chat", 2_000));

        // An unset deadline is TimeoutMs: setting it to that value is the same setting.
        builder.UseLlmGuard(configure: options => (options.Scene, options.IdleTimeoutMs, options.FirstItemTimeoutMs) = ("twice_stream_chat", 2_000, GuardedAttribute.DefaultTimeoutMs));
        InvalidOperationException idle = Assert.Throws<InvalidOperationException>(
            () => builder.UseLlmGuard(configure: options => options.Scene = "twice_stream_chat"));
        InvalidOperationException replay = Assert.Throws<InvalidOperationException>(
            () => builder.UseLlmGuard(configure: options => (options.Scene, options.IdleTimeoutMs, options.StreamReplayItems) = ("twice_stream_chat", 2_000, 16)));

        Assert.Contains("IdleTimeoutMs 30000", idle.Message, StringComparison.Ordinal);
        Assert.Contains("StreamReplayItems 16", replay.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Clients_of_one_scene_created_at_once_with_other_settings_register_one_set_and_the_others_throw()
    {
        // Randomized interleaving (dedicated threads released together), bounded to 20 rounds of 8 clients, half with each
        // timeout: a check and a registration that were two steps would let both settings in, and nothing would throw.
        const int Clients = 8;
        for (int round = 0; round < 20; round++)
        {
            string scene = $"racing_chat_{round}";
            using var start = new Barrier(Clients);
            bool Create(int client)
            {
                start.SignalAndWait(TimeSpan.FromSeconds(10));
                try
                {
                    new ChatClientBuilder(s_unused).UseLlmGuard(configure: options => (options.Scene, options.TimeoutMs) = (scene, client % 2 == 0 ? 5_000 : 6_000));
                    return true;
                }
                catch (InvalidOperationException)
                {
                    return false;
                }
            }

            Task<bool>[] created = Enumerable.Range(0, Clients)
                .Select(client => Task.Factory.StartNew(() => Create(client), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default))
                .ToArray();
            bool[] succeeded = await Task.WhenAll(created).Within();

            GuardScene registered = Assert.Single(GuardSceneManifest.Scenes, known => known.Scene == scene);
            for (int client = 0; client < Clients; client++)
            {
                Assert.Equal(registered.TimeoutMs == (client % 2 == 0 ? 5_000 : 6_000), succeeded[client]);
            }
        }
    }

    [Fact]
    public void Configuration_of_a_UseLlmGuard_scene_passes_validation_and_of_an_unknown_scene_fails_naming_it()
    {
        static IServiceCollection Host(string configuredScene)
        {
            var services = new ServiceCollection();
            services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
                .AddInMemoryCollection(new Dictionary<string, string?> { [$"LlmGuard:Scenes:{configuredScene}:MaxRetries"] = "0" })
                .Build());
            services.AddLlmGuard();
            services.AddChatClient(s_unused).UseLlmGuard(configure: options => options.Scene = "validated_chat");
            return services;
        }

        using ServiceProvider known = Host("validated_chat").BuildServiceProvider();
        using ServiceProvider unknown = Host("validated_chta").BuildServiceProvider();

        Assert.Equal(0, known.GetRequiredService<IOptions<LlmGuardOptions>>().Value.Scenes["validated_chat"].MaxRetries);
        OptionsValidationException failure = Assert.Throws<OptionsValidationException>(() => unknown.GetRequiredService<IOptions<LlmGuardOptions>>().Value);
        Assert.Contains("LlmGuard:Scenes:validated_chta", failure.Message, StringComparison.Ordinal);
    }
}
