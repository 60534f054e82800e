using System;
using System.Collections.Generic;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace LlmGuard.Redis;

/// <summary>
/// Rejects <see cref="LlmGuardRedisOptions"/> that could not work, at start-up (<c>ValidateOnStart</c>) rather than at
/// the first distributed call; each message names the option.
/// </summary>
internal sealed class LlmGuardRedisOptionsValidator(IServiceProviderIsService? services = null) : IValidateOptions<LlmGuardRedisOptions>
{
    public ValidateOptionsResult Validate(string? name, LlmGuardRedisOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        RequirePositive(options.LeaseTtl, nameof(options.LeaseTtl), failures);
        RequirePositive(options.ResultTtl, nameof(options.ResultTtl), failures);
        RequirePositive(options.PollInterval, nameof(options.PollInterval), failures);
        RequirePositive(options.FollowerWait, nameof(options.FollowerWait), failures);
        RequirePositive(options.RedisTimeout, nameof(options.RedisTimeout), failures);
        RequirePositive(options.BudgetRefreshInterval, nameof(options.BudgetRefreshInterval), failures);

        // A Redis step that may outlast the lease could find the lease gone before it answers; renewals every third of
        // the TTL need the steps well inside it.
        if (options.RedisTimeout > TimeSpan.Zero && options.LeaseTtl > TimeSpan.Zero && options.RedisTimeout >= options.LeaseTtl)
        {
            failures.Add($"LlmGuardRedisOptions.RedisTimeout ({options.RedisTimeout}) must be shorter than LlmGuardRedisOptions.LeaseTtl ({options.LeaseTtl}).");
        }

        // A follower that missed the announcement finds the result on its next look, up to a poll interval and a Redis
        // step after it was stored: a result that expired by then makes that follower run the execution again.
        if (options.ResultTtl > TimeSpan.Zero && options.PollInterval > TimeSpan.Zero && options.RedisTimeout > TimeSpan.Zero
            && options.ResultTtl <= options.PollInterval + options.RedisTimeout)
        {
            failures.Add($"LlmGuardRedisOptions.ResultTtl ({options.ResultTtl}) must be longer than LlmGuardRedisOptions.PollInterval ({options.PollInterval}) plus LlmGuardRedisOptions.RedisTimeout ({options.RedisTimeout}).");
        }

        if (string.IsNullOrEmpty(options.KeyPrefix))
        {
            failures.Add("LlmGuardRedisOptions.KeyPrefix must not be empty: it keeps LlmGuard's keys apart from the application's in a shared Redis.");
        }

        if (string.IsNullOrWhiteSpace(options.Configuration) && services?.IsService(typeof(IConnectionMultiplexer)) != true)
        {
            failures.Add("LlmGuardRedisOptions.Configuration is not set and no IConnectionMultiplexer is registered: set Configuration (\"host:6379\") or register a multiplexer.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void RequirePositive(TimeSpan value, string option, List<string> failures)
    {
        if (value <= TimeSpan.Zero)
        {
            failures.Add($"LlmGuardRedisOptions.{option} must be positive (was {value}).");
        }
    }
}
