namespace LlmGuard.Redis.Results;

/// <summary>How a follower's wait for the leader's result ended.</summary>
internal enum FlightOutcome
{
    /// <summary>The leader's execution succeeded: the result carries its value.</summary>
    Succeeded,

    /// <summary>The leader's execution failed. Failures are not shared: the follower runs the execution itself.</summary>
    Failed,

    /// <summary>
    /// The leader's callers all left, so its execution was cancelled before it had an answer. It released the lease
    /// first: a follower tries to take it and becomes the next leader.
    /// </summary>
    Abandoned,

    /// <summary>Neither a result nor a lease holder: the leader died and its TTL ran out, or nobody took the lease.</summary>
    NoLeader,

    /// <summary>The wait reached its bound.</summary>
    TimedOut,

    /// <summary>The connection to Redis broke while waiting.</summary>
    RedisLost,

    /// <summary>The stored result does not read as the result type: another version of the application wrote it.</summary>
    Unreadable,
}

/// <summary>What a follower's wait found.</summary>
/// <typeparam name="T">The result type.</typeparam>
/// <param name="Outcome">How the wait ended.</param>
/// <param name="Value">The leader's result, when <paramref name="Outcome"/> is <see cref="FlightOutcome.Succeeded"/>.</param>
internal readonly record struct FollowerLook<T>(FlightOutcome Outcome, T? Value);
