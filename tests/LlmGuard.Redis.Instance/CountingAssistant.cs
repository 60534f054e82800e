using System;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace LlmGuard.Redis.Instance;

[JsonSerializable(typeof(string))]
public sealed partial class InstanceJsonContext : JsonSerializerContext;

/// <summary>The guarded method every instance calls, in a scene shared across instances.</summary>
/// <remarks>The process tests compile this file too, so their in-process instances build the same keys.</remarks>
public sealed partial class CountingAssistant(GuardRuntime runtime, CountingModel model)
{
    public const string Scene = "redis_processes";

    [Guarded(Scene = Scene, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> AskAsync(string question, CancellationToken cancellationToken = default);

    private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => model.RespondAsync(question, cancellationToken);
}

/// <summary>
/// The model: it counts every execution in Redis, where a test reads the count of all instances at once, then holds
/// the execution until the test sets <see cref="ReleaseKey"/>, so the test decides when leaders answer.
/// </summary>
public sealed class CountingModel(IConnectionMultiplexer redis, string keyPrefix, string instance, TimeSpan holdBound)
{
    private static readonly TimeSpan s_releasePoll = TimeSpan.FromMilliseconds(10);

    public static RedisKey ExecutionsKey(string keyPrefix, string question) => keyPrefix + "executions:" + question;

    public static RedisKey ReleaseKey(string keyPrefix) => keyPrefix + "release";

    /// <summary>The answer an execution on <paramref name="instance"/> gives: it names the instance that ran it.</summary>
    public static string Answer(string question, string instance, long execution) =>
        string.Create(CultureInfo.InvariantCulture, $"{question} answered by {instance} (execution {execution})");

    public async Task<string> RespondAsync(string question, CancellationToken cancellationToken)
    {
        IDatabase database = redis.GetDatabase();
        long execution = await database.StringIncrementAsync(ExecutionsKey(keyPrefix, question)).ConfigureAwait(false);

        // Bounded: a test that never releases (it killed this process's peer, or failed) must not leave it running.
        Stopwatch held = Stopwatch.StartNew();
        while (!await database.KeyExistsAsync(ReleaseKey(keyPrefix)).ConfigureAwait(false))
        {
            if (held.Elapsed > holdBound)
            {
                throw new TimeoutException($"The execution of '{question}' was not released within {holdBound}.");
            }

            await Task.Delay(s_releasePoll, cancellationToken).ConfigureAwait(false);
        }

        return Answer(question, instance, execution);
    }
}
