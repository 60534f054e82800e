using System.Collections.Generic;
using System.Diagnostics.Metrics;

namespace LlmGuard.Redis.Telemetry;

/// <summary>
/// The <c>llmguard.redis.fallbacks</c> counter (meter <c>LlmGuard.Redis</c>): one per execution of a <c>Distributed</c>
/// scene that ran on its own instance instead of being shared, tagged <c>llmguard.scene</c> and <c>reason</c>.
/// </summary>
/// <remarks>
/// The <c>reason</c> tag takes one of these values:
/// <list type="bullet">
/// <item><term><c>unreachable</c></term><description>a Redis step failed: the connection is down or was closed.</description></item>
/// <item><term><c>timeout</c></term><description>a Redis step did not answer within <c>RedisTimeout</c>.</description></item>
/// <item><term><c>circuit_open</c></term><description>Redis failed recently, so this call did not try it (the backoff after a failure).</description></item>
/// <item><term><c>follower_wait</c></term><description>the follower waited <c>FollowerWait</c> without a result from the leader.</description></item>
/// <item><term><c>leader_failed</c></term><description>the leader's execution failed: failures are not shared, each instance runs its own.</description></item>
/// <item><term><c>no_leader</c></term><description>the lease stayed free without a result after a few tries to take it.</description></item>
/// <item><term><c>no_contract</c></term><description><c>TypeInfoResolver</c> has no JSON contract for the result type.</description></item>
/// <item><term><c>unreadable_result</c></term><description>the stored result does not read as the result type (another version of the application wrote it).</description></item>
/// </list>
/// </remarks>
internal sealed class RedisFallbacks
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "LlmGuard.Redis";

    /// <summary>The counter's name.</summary>
    public const string CounterName = "llmguard.redis.fallbacks";

    /// <summary>The scene tag, the same as the core's instruments.</summary>
    public const string SceneTag = "llmguard.scene";

    /// <summary>The reason tag.</summary>
    public const string ReasonTag = "reason";

    public const string Unreachable = "unreachable";
    public const string Timeout = "timeout";
    public const string CircuitOpen = "circuit_open";
    public const string FollowerWait = "follower_wait";
    public const string LeaderFailed = "leader_failed";
    public const string NoLeader = "no_leader";
    public const string NoContract = "no_contract";
    public const string UnreadableResult = "unreadable_result";

    private readonly Counter<long> _fallbacks;

    /// <summary>Creates the counter on <paramref name="meterFactory"/>'s meter, or on a meter of its own without one.</summary>
    /// <param name="meterFactory">The application's meter factory, when registered.</param>
    public RedisFallbacks(IMeterFactory? meterFactory)
    {
        Meter meter = meterFactory?.Create(new MeterOptions(MeterName)) ?? new Meter(MeterName);
        _fallbacks = meter.CreateCounter<long>(CounterName, "{execution}", "Executions of Distributed scenes that ran on their own instance instead of being shared, by reason.");
    }

    /// <summary>Counts one execution of <paramref name="scene"/> that ran locally for <paramref name="reason"/>.</summary>
    /// <param name="scene">The scene.</param>
    /// <param name="reason">One of the reason constants.</param>
    public void Add(string scene, string reason) =>
        _fallbacks.Add(1, new KeyValuePair<string, object?>(SceneTag, scene), new KeyValuePair<string, object?>(ReasonTag, reason));
}
