using System;
using System.Threading;
using System.Threading.Tasks;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using LlmGuard.Distribution;
using LlmGuard.Redis.Leases;
using LlmGuard.Redis.Results;
using StackExchange.Redis;

namespace LlmGuard.Redis.Flights;

/// <summary>
/// One execution per key across instances: the instance that takes the key's lease runs the execution and publishes
/// its result; the others wait for that result on the result channel.
/// </summary>
/// <remarks>
/// Every step that can fail on Redis throws out of <see cref="RunAsync{TResult}"/> before the execution started, which
/// the runtime answers by running the execution on this instance; a leader's failure is never shared, so its
/// followers run locally when their wait ends without a result.
/// </remarks>
internal sealed class RedisDistributedFlights : IDistributedFlights, IAsyncDisposable
{
    private readonly RedisLeases _leases;
    private readonly RedisResultChannel _results;
    private readonly JsonSerializerOptions? _json;
    private readonly TimeSpan _redisTimeout;
    private readonly TimeSpan _followerWait;
    private readonly IConnectionMultiplexer? _ownedConnection;

    public RedisDistributedFlights(IConnectionMultiplexer connection, bool ownsConnection, LlmGuardRedisOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        _leases = new RedisLeases(connection, options.KeyPrefix, options.LeaseTtl, options.RedisTimeout);
        _results = new RedisResultChannel(connection, options.KeyPrefix, options.ResultTtl, options.PollInterval, timeProvider);
        _json = options.TypeInfoResolver is { } resolver ? new JsonSerializerOptions { TypeInfoResolver = resolver } : null;
        _redisTimeout = options.RedisTimeout;
        _followerWait = options.FollowerWait;
        _ownedConnection = ownsConnection ? connection : null;
    }

    public async ValueTask<TResult> RunAsync<TResult>(string scene, string key, Func<CancellationToken, ValueTask<TResult>> execute, CancellationToken cancellationToken)
    {
        if (_json?.TypeInfoResolver?.GetTypeInfo(typeof(TResult), _json) is not JsonTypeInfo<TResult> typeInfo)
        {
            // Without a contract the result cannot cross instances; this instance runs the execution as it would alone.
            return await execute(cancellationToken).ConfigureAwait(false);
        }

        // Two methods of one scene may build equal guard keys; the result type keeps their answers apart.
        string flightKey = scene + ":" + typeof(TResult).FullName + ":" + key;
        RedisLease? lease = await AcquireAsync(flightKey, cancellationToken).ConfigureAwait(false);
        if (lease is null)
        {
            (bool found, TResult? value) = await _results.WaitAsync(flightKey, typeInfo, _followerWait, cancellationToken).ConfigureAwait(false);
            return found ? value! : throw new TimeoutException($"No instance published the result of scene '{scene}' within {_followerWait}.");
        }

        await using (lease.ConfigureAwait(false))
        {
            // A follower that failed the lease only after this instance took it reads no earlier execution's result,
            // except one that looked in the instant between the lease and this delete.
            await _results.ClearAsync(flightKey).WaitAsync(_redisTimeout, cancellationToken).ConfigureAwait(false);
            TResult result = await execute(cancellationToken).ConfigureAwait(false);

            // A result that does not reach Redis costs the followers their wait, then a local execution each; this
            // instance's callers have their answer either way.
            try
            {
                await _results.PublishAsync(flightKey, result, typeInfo).WaitAsync(_redisTimeout, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
            }

            return result;
        }
    }

    // Bounded by the Redis timeout; an acquisition that completes after the caller gave up is released, so a lease
    // nobody uses does not keep other instances waiting for a result that will never come.
    private async Task<RedisLease?> AcquireAsync(string flightKey, CancellationToken cancellationToken)
    {
        Task<RedisLease?> acquiring = _leases.TryAcquireAsync(flightKey, CancellationToken.None).AsTask();
        try
        {
            return await acquiring.WaitAsync(_redisTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            _ = ReleaseLateAsync(acquiring);
            throw;
        }
    }

    private static async Task ReleaseLateAsync(Task<RedisLease?> acquiring)
    {
        try
        {
            if (await acquiring.ConfigureAwait(false) is { } lease)
            {
                await lease.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            // The lease key expires after its TTL on its own.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_ownedConnection is not null)
        {
            await _ownedConnection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
