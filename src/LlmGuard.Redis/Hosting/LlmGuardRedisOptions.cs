using System;
using System.Text.Json.Serialization.Metadata;

namespace LlmGuard.Redis;

/// <summary>How the instances of a deployment share executions through Redis.</summary>
public sealed class LlmGuardRedisOptions
{
    /// <summary>
    /// Gets or sets the StackExchange.Redis configuration string (<c>host:6379,password=...</c>); <see langword="null"/>
    /// (the default) uses the <see cref="StackExchange.Redis.IConnectionMultiplexer"/> registered in the container.
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>
    /// Gets or sets where the JSON contracts of the guarded methods' results come from (a source-generated
    /// <c>JsonSerializerContext</c> in a trimmed or native AOT app). A result type it does not know is never shared: its
    /// executions run on each instance.
    /// </summary>
    public IJsonTypeInfoResolver? TypeInfoResolver { get; set; }

    /// <summary>Gets or sets the prefix of every key and channel, so deployments can share one Redis; <c>llmguard:</c> by default.</summary>
    public string KeyPrefix { get; set; } = "llmguard:";

    /// <summary>Gets or sets how long a lease outlives its last renewal: the longest a dead leader holds a key; 15 s by default.</summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets or sets how long a published result waits for followers that have not taken it; 30 s by default.</summary>
    public TimeSpan ResultTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how often a follower looks for the result when no announcement reached it; 200 ms by default. Each
    /// look also reads the lease, so a follower finds a dead leader's key gone within one interval of its TTL running out.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Gets or sets the longest a follower waits for another instance's result before it runs the execution itself;
    /// 60 s by default. Keep it above the scene's longest execution. A leader that fails, or whose callers all left,
    /// wakes its followers at once, and a follower that finds the lease free without a result takes it (a few tries):
    /// this bound is for a leader that is alive but slow, or unheard of.
    /// </summary>
    public TimeSpan FollowerWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Gets or sets the longest one Redis step (taking the lease, one look for the result, publishing, releasing) may
    /// take, on the container's <see cref="TimeProvider"/>; 250 ms by default, and shorter than <see cref="LeaseTtl"/>.
    /// A step that takes longer, or fails, makes the execution run on this instance, and keeps this instance off Redis
    /// for a backoff (1 s, doubling up to 30 s while Redis stays away) so that later calls do not each wait for it.
    /// </summary>
    public TimeSpan RedisTimeout { get; set; } = TimeSpan.FromMilliseconds(250);
}
