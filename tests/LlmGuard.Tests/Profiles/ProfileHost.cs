using System;
using System.Collections.Generic;
using LlmGuard.Hosting;
using LlmGuard.Profiles;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Profiles;

/// <summary>A container with LlmGuard, keyed fake models, configuration that reloads, a fake clock and a log.</summary>
internal sealed class ProfileHost : IDisposable
{
    public ProfileHost(IDictionary<string, string?> settings, Action<ILlmGuardBuilder>? setup, params FakeModelClient[] models)
    {
        Configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(Configuration);
        services.AddSingleton<TimeProvider>(Clock);
        services.AddLogging(logging => logging.AddProvider(Logs));
        foreach (FakeModelClient model in models)
        {
            services.AddKeyedSingleton<IChatClient>(model.Name, model);
        }

        ILlmGuardBuilder builder = services.AddLlmGuard();
        setup?.Invoke(builder);
        services.AddSingleton<ProfiledAssistant>();
        Provider = services.BuildServiceProvider();
    }

    public FakeTimeProvider Clock { get; } = new();

    public FakeLoggerProvider Logs { get; } = new();

    public IConfigurationRoot Configuration { get; }

    public ServiceProvider Provider { get; }

    public LlmModelProfiles Profiles => Provider.GetRequiredService<LlmModelProfiles>();

    /// <summary>The settings of a profile over the keyed models <paramref name="clients"/>, in order.</summary>
    public static Dictionary<string, string?> Settings(string profile, string strategy, params string[] clients)
    {
        var settings = new Dictionary<string, string?> { [$"LlmGuard:Profiles:{profile}:Strategy"] = strategy };
        for (int i = 0; i < clients.Length; i++)
        {
            settings[$"LlmGuard:Profiles:{profile}:Models:{i}:Client"] = clients[i];
        }

        return settings;
    }

    public void Reload(string key, string? value)
    {
        Configuration[key] = value;
        Configuration.Reload();
    }

    public void Dispose() => Provider.Dispose();
}
