using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using LlmGuard.Protection;
using LlmGuard.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Protection;

/// <summary>Protection settings bound from <c>LlmGuard:Scenes:&lt;scene&gt;</c> by <c>AddLlmGuard()</c>: start-up validation and reload.</summary>
public sealed class ProtectionConfigurationTests
{
    private const string Prefix = "LlmGuard:Scenes:" + ProtectedDesk.Scene + ":";

    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedModel _model = new();

    [Fact]
    public async Task A_host_with_an_out_of_range_limit_fails_to_start_naming_the_scene_and_the_key()
    {
        HostApplicationBuilder builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { [Prefix + "MaxConcurrency"] = "-3" });
        builder.Services.AddLlmGuard();
        using IHost host = builder.Build();

        OptionsValidationException failure = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Equal("LlmGuard:Scenes:protected:MaxConcurrency is -3, out of range; allowed: 0 to 2147483647.", Assert.Single(failure.Failures));
    }

    [Fact]
    public async Task A_configuration_reload_changes_the_concurrency_limit_of_later_executions()
    {
        IConfigurationRoot configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [Prefix + "MaxConcurrency"] = "1", [Prefix + "TenantMaxConcurrency"] = "0" })
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton<TimeProvider>(_time);
        services.AddLlmGuard();
        await using ServiceProvider provider = services.BuildServiceProvider();
        provider.GetRequiredService<IStartupValidator>().Validate();
        var desk = new ProtectedDesk(provider.GetRequiredService<GuardRuntime>(), _model);

        Task<string> first = desk.AskAsync("1");
        ModelCall running = await _model.NextCallAsync();
        await Assert.ThrowsAsync<LlmLimitExceededException>(() => desk.AskAsync("2").Within());

        configuration[Prefix + "MaxConcurrency"] = "2";
        configuration.Reload();
        Task<string> second = desk.AskAsync("3");
        ModelCall admitted = await _model.NextCallAsync();

        running.Succeed("a");
        admitted.Succeed("b");
        Assert.Equal(["a", "b"], await Task.WhenAll(first, second).Within());
    }
}
