using System;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

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
}
