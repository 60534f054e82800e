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

    /// <summary>
    /// Gets or sets whether the token budgets (<c>LlmGuardOptions.Budgets</c>) count the tokens of every instance that
    /// uses the same Redis and <see cref="KeyPrefix"/>, rather than each instance's alone; <see langword="true"/> by
    /// default. A call is never refused or slowed because Redis is away: each instance then counts its own tokens.
    /// </summary>
    /// <remarks>
    /// Admission never waits for Redis: an instance compares a budget with the larger of its own count and the last
    /// total Redis returned, so another instance's spending is seen once its execution has completed plus one round
    /// trip, and a burst can overshoot a budget by what runs meanwhile. A period starts with the first tokens Redis
    /// counts for a partition and lasts the budget's period on Redis's clock.
    /// </remarks>
    public bool ShareBudgets { get; set; } = true;

    /// <summary>
    /// Gets or sets how old an instance's view of a budget's shared total may grow before its next admission reads the
    /// total again, in the background; 1 s by default. Counting an execution refreshes the view too.
    /// </summary>
    public TimeSpan BudgetRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets whether cached answers (<c>CacheSeconds</c>) are shared across instances: HybridCache gets a second
    /// level in Redis on this connection, under <see cref="KeyPrefix"/> <c>cache:</c>, so an answer one instance stored
    /// serves the others without an execution; <see langword="false"/> by default.
    /// </summary>
    /// <remarks>
    /// Off by default because it stores answers (and whatever of the users' data they hold) in Redis, for each scene's
    /// <c>CacheSeconds</c>, and gives the application's own HybridCache entries the same second level. The application's
    /// <c>IDistributedCache</c> is not replaced; a <c>DistributedCacheServiceKey</c> the application set on its
    /// HybridCache wins over this one.
    /// </remarks>
    public bool ShareCache { get; set; }
}
