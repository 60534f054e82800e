using System;
using LlmGuard.Distribution;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Hosting;

/// <summary>AddRedis rejects options that could not work when the host starts, with a message naming the option.</summary>
public sealed class LlmGuardRedisOptionsValidationTests
{
    public static TheoryData<string, string> InvalidOptions => new()
    {
        { "LeaseTtl=0", "LlmGuardRedisOptions.LeaseTtl must be positive" },
        { "ResultTtl=-1s", "LlmGuardRedisOptions.ResultTtl must be positive" },
        { "PollInterval=0", "LlmGuardRedisOptions.PollInterval must be positive" },
        { "FollowerWait=0", "LlmGuardRedisOptions.FollowerWait must be positive" },
        { "RedisTimeout=0", "LlmGuardRedisOptions.RedisTimeout must be positive" },
        { "BudgetRefreshInterval=-1s", "LlmGuardRedisOptions.BudgetRefreshInterval must be positive" },
        { "RedisTimeout=LeaseTtl", "LlmGuardRedisOptions.RedisTimeout (00:00:02) must be shorter than LlmGuardRedisOptions.LeaseTtl (00:00:02)" },
        { "ResultTtl=PollInterval+RedisTimeout", "LlmGuardRedisOptions.ResultTtl (00:00:01.5000000) must be longer than LlmGuardRedisOptions.PollInterval (00:00:01) plus LlmGuardRedisOptions.RedisTimeout (00:00:00.5000000)" },
        { "KeyPrefix=\"\"", "LlmGuardRedisOptions.KeyPrefix must not be empty" },
        { "Configuration=null", "LlmGuardRedisOptions.Configuration is not set and no IConnectionMultiplexer is registered" },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void An_option_that_cannot_work_fails_the_start_with_a_message_naming_it(string setting, string message)
    {
        using ServiceProvider services = Build(options => Apply(options, setting), registerConnection: false);

        OptionsValidationException failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(failure.Failures, f => f.StartsWith(message, StringComparison.Ordinal));
        Assert.Single(failure.Failures);
    }

    [Fact]
    public void Resolving_the_hook_with_an_option_that_cannot_work_fails_with_the_same_message()
    {
        using ServiceProvider services = Build(options => options.PollInterval = TimeSpan.Zero, registerConnection: false);

        OptionsValidationException failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IDistributedFlights>());

        Assert.Contains("LlmGuardRedisOptions.PollInterval must be positive", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_with_a_configuration_string_are_valid()
    {
        using ServiceProvider services = Build(options => options.Configuration = "127.0.0.1:1", registerConnection: false);

        services.GetRequiredService<IStartupValidator>().Validate();
    }

    [Fact]
    public void A_registered_connection_stands_in_for_the_configuration_string()
    {
        using ServiceProvider services = Build(options => options.Configuration = null, registerConnection: true);

        services.GetRequiredService<IStartupValidator>().Validate();
    }

    private static ServiceProvider Build(Action<LlmGuardRedisOptions> configure, bool registerConnection)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        if (registerConnection)
        {
            // Registered, never resolved: validation only asks whether the container has one.
            services.AddSingleton<IConnectionMultiplexer>(_ => throw new InvalidOperationException("not resolved by validation"));
        }

        services.AddLlmGuard().AddRedis(options =>
        {
            options.Configuration = "127.0.0.1:1";
            configure(options);
        });
        return services.BuildServiceProvider();
    }

    private static void Apply(LlmGuardRedisOptions options, string setting)
    {
        switch (setting)
        {
            case "LeaseTtl=0": options.LeaseTtl = TimeSpan.Zero; break;
            case "ResultTtl=-1s": options.ResultTtl = TimeSpan.FromSeconds(-1); break;
            case "PollInterval=0": options.PollInterval = TimeSpan.Zero; break;
            case "FollowerWait=0": options.FollowerWait = TimeSpan.Zero; break;
            case "RedisTimeout=0": options.RedisTimeout = TimeSpan.Zero; break;
            case "BudgetRefreshInterval=-1s": options.BudgetRefreshInterval = TimeSpan.FromSeconds(-1); break;
            case "RedisTimeout=LeaseTtl": options.LeaseTtl = options.RedisTimeout = TimeSpan.FromSeconds(2); break;
            case "ResultTtl=PollInterval+RedisTimeout":
                options.PollInterval = TimeSpan.FromSeconds(1);
                options.RedisTimeout = TimeSpan.FromMilliseconds(500);
                options.ResultTtl = TimeSpan.FromMilliseconds(1500);
                break;
            case "KeyPrefix=\"\"": options.KeyPrefix = ""; break;
            case "Configuration=null": options.Configuration = null; break;
            default: throw new ArgumentOutOfRangeException(nameof(setting), setting, null);
        }
    }
}
