using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace LlmGuard.Redis.Leases;

/// <summary>
/// A held lease for one key: renewed in the background until disposed, and disposing releases it if this owner still
/// holds it.
/// </summary>
internal sealed class RedisLease : IAsyncDisposable
{
    private readonly RedisDistributedLockHandle _handle;
    private readonly TimeSpan _releaseTimeout;
    private readonly TimeProvider _timeProvider;

    internal RedisLease(string key, RedisDistributedLockHandle handle, TimeSpan releaseTimeout, TimeProvider timeProvider)
    {
        Key = key;
        _handle = handle;
        _releaseTimeout = releaseTimeout;
        _timeProvider = timeProvider;

        // Read now: the handle refuses to hand out its token once disposed, and callers may still look after releasing.
        Lost = handle.HandleLostToken;
    }

    /// <summary>Gets the guard key this lease is for.</summary>
    public string Key { get; }

    /// <summary>
    /// Gets a token cancelled when this owner no longer holds the lease: a renewal found another owner or none, or no
    /// renewal reached Redis for a whole TTL. The execution may then be running on a second instance too.
    /// </summary>
    public CancellationToken Lost { get; }

    /// <summary>Stops renewing and deletes the lease key if it still holds this owner's id.</summary>
    /// <remarks>
    /// Waits for Redis at most the release timeout: a release that does not arrive leaves the key to expire after its
    /// TTL, which delays the next execution for that key but never blocks this caller.
    /// </remarks>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _handle.DisposeAsync().AsTask().WaitAsync(_releaseTimeout, _timeProvider).ConfigureAwait(false);
        }
        catch (Exception exception) when (DidNotReachRedis(exception))
        {
            // The TTL frees the key: nothing else to do for a release that did not reach Redis.
        }
    }

    // The lock library gathers the failures of its release (one per Redis database) into an AggregateException; a
    // connection closed under the lease fails with ObjectDisposedException.
    private static bool DidNotReachRedis(Exception exception) => exception switch
    {
        TimeoutException or RedisException or ObjectDisposedException => true,
        AggregateException aggregate => aggregate.InnerExceptions.All(DidNotReachRedis),
        _ => false,
    };
}
