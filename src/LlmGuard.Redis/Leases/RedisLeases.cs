using System;
using System.Threading;
using System.Threading.Tasks;
using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace LlmGuard.Redis.Leases;

/// <summary>
/// Hands out the lease that lets one instance of a deployment run the execution for a key while the others wait for
/// its result.
/// </summary>
/// <remarks>
/// <para>The lease is DistributedLock.Redis's <see cref="RedisDistributedLock"/> rather than lock code of our own: it
/// sets the key to a random id per acquisition with a TTL only when the key is absent, renews that TTL in the background
/// while the handle lives, and both renews and deletes through scripts that first check the id, so only the owner ever
/// extends or frees the key. A holder that dies stops renewing and the key frees itself when its TTL runs out.</para>
/// <para>Acquisition is a single attempt: an instance that does not get the lease waits for the holder's result, not
/// for the lease.</para>
/// </remarks>
internal sealed class RedisLeases
{
    private readonly IDatabase _database;
    private readonly string _keyPrefix;
    private readonly Action<RedisDistributedSynchronizationOptionsBuilder> _options;
    private readonly TimeSpan _releaseTimeout;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates leases stored in the default database of <paramref name="connection"/>.</summary>
    /// <param name="connection">The connection to Redis.</param>
    /// <param name="keyPrefix">Prepended to every lease key, so deployments can share one Redis.</param>
    /// <param name="ttl">How long a lease outlives its last renewal: the longest a dead holder keeps a key.</param>
    /// <param name="releaseTimeout">The longest a release waits for Redis before leaving the key to its TTL.</param>
    /// <param name="timeProvider">The clock of the release timeout.</param>
    public RedisLeases(IConnectionMultiplexer connection, string keyPrefix, TimeSpan ttl, TimeSpan releaseTimeout, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(releaseTimeout, TimeSpan.Zero);
        _database = connection.GetDatabase();
        _keyPrefix = keyPrefix;
        _releaseTimeout = releaseTimeout;
        _timeProvider = timeProvider;
        _options = options => options
            .Expiry(ttl)
            // The library counts an acquisition that left less than this much of the TTL as failed, and by default
            // asks for 90%: a SET that took a tenth of the TTL (a busy host, a slow network) would find the key free
            // and still come back empty-handed, leaving no leader. Half the TTL still leaves time for renewals...
            .MinValidityTime(ttl / 2)
            // ...which come every third of the TTL, so two can fail before the key expires under a live holder.
            .ExtensionCadence(ttl / 3);

        // The lock library validates its options only when a lock is created; a bad TTL should fail here, at startup.
        _ = new RedisDistributedLock(LeaseKey("validation"), _database, _options);
    }

    /// <summary>Takes the lease for <paramref name="key"/> if no one holds it.</summary>
    /// <param name="key">The guard key.</param>
    /// <param name="cancellationToken">Abandons the attempt.</param>
    /// <returns>The lease, or <see langword="null"/> when another owner holds it.</returns>
    public async ValueTask<RedisLease?> TryAcquireAsync(string key, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        var distributedLock = new RedisDistributedLock(LeaseKey(key), _database, _options);
        RedisDistributedLockHandle? handle = await distributedLock.TryAcquireAsync(TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
        return handle is null ? null : new RedisLease(key, handle, _releaseTimeout, _timeProvider);
    }

    /// <summary>The Redis key that holds the lease for a guard key.</summary>
    /// <param name="key">The guard key.</param>
    internal RedisKey LeaseKey(string key) => _keyPrefix + "lease:" + key;
}
