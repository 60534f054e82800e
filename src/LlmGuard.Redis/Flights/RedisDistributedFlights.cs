using System;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Distribution;
using LlmGuard.Redis.Leases;
using LlmGuard.Redis.Results;
using LlmGuard.Redis.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace LlmGuard.Redis.Flights;

/// <summary>
/// One execution per key across instances: the instance that takes the key's lease leads, runs the execution and
/// publishes its outcome; the others follow, waiting for that outcome on the result channel.
/// </summary>
/// <remarks>
/// <para>Redis saves executions, it never costs a caller its answer: whenever Redis fails, is slow, or the wait gives
/// no result, the execution runs on this instance (counted in <see cref="RedisFallbacks"/>). Every Redis step waits at
/// most <c>RedisTimeout</c>, and after a failure the <see cref="RedisCircuit"/> keeps calls off Redis for a backoff,
/// so an outage costs one timeout per backoff instead of one per call.</para>
/// <para>A leader's failure wakes its followers at once, and each runs the execution itself: failures are not shared,
/// each instance's own attempts and fallback decide. A leader whose callers all left is cancelled; it releases the lease
/// and says so, and a follower takes the lease and runs the execution for the others. A follower that finds neither a
/// result nor a holder (the leader died and its TTL ran out) takes the lease too, a few times at most.</para>
/// </remarks>
internal sealed class RedisDistributedFlights : IDistributedFlights, IDisposable
{
    /// <summary>How many times a follower tries the lease while it finds the key without a leader or result.</summary>
    /// <remarks>More than one so that an abandoned or dead leader is replaced; few so that a flapping lease cannot
    /// keep a follower electing until its bound.</remarks>
    internal const int LeaseAttempts = 3;

    private readonly IConnectionMultiplexer _connection;
    private readonly RedisLeases _leases;
    private readonly RedisResultChannel _results;
    private readonly JsonSerializerOptions? _json;
    private readonly TimeSpan _redisTimeout;
    private readonly TimeSpan _followerWait;
    private readonly TimeProvider _timeProvider;
    private readonly RedisCircuit _circuit;
    private readonly RedisFallbacks _fallbacks;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<Type, bool> _typesWithoutContract = new();

    public RedisDistributedFlights(
        IConnectionMultiplexer connection,
        LlmGuardRedisOptions options,
        TimeProvider timeProvider,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _connection = connection;
        _leases = new RedisLeases(connection, options.KeyPrefix, options.LeaseTtl, options.RedisTimeout, timeProvider);
        _results = new RedisResultChannel(connection, options.KeyPrefix, options.ResultTtl, options.PollInterval, options.RedisTimeout, timeProvider);
        _json = options.TypeInfoResolver is { } resolver ? new JsonSerializerOptions { TypeInfoResolver = resolver } : null;

        // Read-only options cache each type's contract; a generated context asked directly builds a new one per call.
        _json?.MakeReadOnly();
        _redisTimeout = options.RedisTimeout;
        _followerWait = options.FollowerWait;
        _timeProvider = timeProvider;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger(RedisLog.Category);
        _circuit = new RedisCircuit(timeProvider, _logger);
        _fallbacks = new RedisFallbacks(meterFactory);

        // The connection knows first when Redis goes away or comes back; calls would learn it only by timing out.
        connection.ConnectionFailed += OnConnectionFailed;
        connection.ConnectionRestored += OnConnectionRestored;
        if (!connection.IsConnected)
        {
            _circuit.ConnectionLost(exception: null);
        }
    }

    public async ValueTask<TResult> RunAsync<TResult>(string scene, string key, Func<CancellationToken, ValueTask<TResult>> execute, CancellationToken cancellationToken)
    {
        if (_json is null || !_json.TryGetTypeInfo(typeof(TResult), out JsonTypeInfo? contract) || contract is not JsonTypeInfo<TResult> typeInfo)
        {
            if (_typesWithoutContract.TryAdd(typeof(TResult), true))
            {
                RedisLog.ResultTypeNotShared(_logger, scene, typeof(TResult).FullName ?? typeof(TResult).Name);
            }

            return await RunLocallyAsync(scene, RedisFallbacks.NoContract, execute, cancellationToken).ConfigureAwait(false);
        }

        if (!_circuit.TryPass(out bool probe, out CancellationToken redisLost))
        {
            return await RunLocallyAsync(scene, RedisFallbacks.CircuitOpen, execute, cancellationToken).ConfigureAwait(false);
        }

        // Two methods of one scene may build equal guard keys; the result type keeps their answers apart.
        string flightKey = scene + ":" + typeof(TResult).FullName + ":" + key;
        Election<TResult> election = await ElectAsync(flightKey, typeInfo, probe, redisLost, cancellationToken).ConfigureAwait(false);
        if (election.Lease is { } lease)
        {
            return await LeadAsync(scene, flightKey, lease, typeInfo, execute, cancellationToken).ConfigureAwait(false);
        }

        return election.FallbackReason is { } reason
            ? await RunLocallyAsync(scene, reason, execute, cancellationToken).ConfigureAwait(false)
            : election.Value!;
    }

    // Takes the lease or follows whoever holds it. Never calls the execution: whatever Redis does here, the caller can
    // still run it locally.
    private async Task<Election<TResult>> ElectAsync<TResult>(string flightKey, JsonTypeInfo<TResult> typeInfo, bool probe, CancellationToken redisLost, CancellationToken cancellationToken)
    {
        long started = _timeProvider.GetTimestamp();
        var witness = new LeaderWitness();
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                RedisLease? lease = await AcquireAsync(flightKey, cancellationToken).ConfigureAwait(false);

                // Redis answered: that is all a probe has to learn.
                _circuit.Succeeded(probe);
                probe = false;
                if (lease is not null)
                {
                    // A follower that takes the lease on a later try may have been slow to: if the successor it raced
                    // already ran, published and released, the result is there, and running again would be a duplicate.
                    return attempt == 1 ? Election<TResult>.Lead(lease) : await TakeOverAsync(flightKey, lease, typeInfo, witness).ConfigureAwait(false);
                }

                TimeSpan remaining = _followerWait - _timeProvider.GetElapsedTime(started);
                if (remaining <= TimeSpan.Zero)
                {
                    return Election<TResult>.Local(RedisFallbacks.FollowerWait);
                }

                FollowerLook<TResult> look = await _results.WaitAsync(flightKey, _leases.LeaseKey(flightKey), typeInfo, witness, remaining, redisLost, cancellationToken).ConfigureAwait(false);
                switch (look.Outcome)
                {
                    case FlightOutcome.Succeeded:
                        return Election<TResult>.Answered(look.Value!);
                    case FlightOutcome.Abandoned when attempt < LeaseAttempts:
                        witness.HandedOn();
                        continue;
                    case FlightOutcome.NoLeader when attempt < LeaseAttempts:
                        continue;
                    default:
                        return Election<TResult>.Local(look.Outcome switch
                        {
                            FlightOutcome.Failed => RedisFallbacks.LeaderFailed,
                            FlightOutcome.Abandoned or FlightOutcome.NoLeader => RedisFallbacks.NoLeader,
                            FlightOutcome.RedisLost => RedisFallbacks.Unreachable,
                            FlightOutcome.Unreadable => RedisFallbacks.UnreadableResult,
                            _ /* TimedOut */ => RedisFallbacks.FollowerWait,
                        });
                }
            }
        }
        catch (Exception exception) when (DidNotReachRedis(exception) && !cancellationToken.IsCancellationRequested)
        {
            string reason = exception is TimeoutException ? RedisFallbacks.Timeout : RedisFallbacks.Unreachable;
            _circuit.Failed(probe, reason, exception);
            return Election<TResult>.Local(reason);
        }
        catch (Exception)
        {
            // The callers left (or something unforeseen failed) before Redis answered the probe: the next call probes,
            // rather than the circuit waiting forever for this one's verdict.
            _circuit.Inconclusive(probe);
            throw;
        }
    }

    private async Task<Election<TResult>> TakeOverAsync<TResult>(string flightKey, RedisLease lease, JsonTypeInfo<TResult> typeInfo, LeaderWitness witness)
    {
        FollowerLook<TResult>? published;
        try
        {
            published = await _results.ReadAsync(flightKey, typeInfo, witness).ConfigureAwait(false);
        }
        catch
        {
            // A lease nobody leads with would be renewed for as long as this process lives, so it is released; in the
            // background, because the circuit does not know yet that Redis failed this read: awaited, the release could
            // add another RedisTimeout to a caller who already waited one for the lease and one for the read.
            _ = lease.DisposeAsync().AsTask();
            throw;
        }

        if (published is { Outcome: FlightOutcome.Succeeded } result)
        {
            await ReleaseAsync(lease).ConfigureAwait(false);
            return Election<TResult>.Answered(result.Value!);
        }

        return Election<TResult>.Lead(lease);
    }

    private async ValueTask<TResult> LeadAsync<TResult>(string scene, string flightKey, RedisLease lease, JsonTypeInfo<TResult> typeInfo, Func<CancellationToken, ValueTask<TResult>> execute, CancellationToken cancellationToken)
    {
        bool released = false;
        try
        {
            RedisKey leaseKey = _leases.LeaseKey(flightKey);
            string? owner = await BeginAsync(flightKey, leaseKey).ConfigureAwait(false);
            TResult result;
            try
            {
                result = await execute(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                // Every caller here left, so there is no answer to share, but the followers still want one. Released
                // before it is announced, so a follower woken by "abandoned" finds the lease free: one takes it and runs
                // the execution, the others follow it.
                released = true;
                await ReleaseAsync(lease).ConfigureAwait(false);
                await PublishAsync(flightKey, leaseKey, owner, FlightOutcome.Abandoned, default, typeInfo).ConfigureAwait(false);
                throw;
            }
            catch (Exception)
            {
                await PublishAsync(flightKey, leaseKey, owner, FlightOutcome.Failed, default, typeInfo).ConfigureAwait(false);
                throw;
            }

            if (lease.Lost.IsCancellationRequested)
            {
                RedisLog.LeaseLost(_logger, scene);
            }

            await PublishAsync(flightKey, leaseKey, owner, FlightOutcome.Succeeded, result, typeInfo).ConfigureAwait(false);
            return result;
        }
        finally
        {
            // Whatever failed above, a lease kept would be renewed for as long as this process lives, and every
            // instance's later calls of this key would wait their FollowerWait for an outcome that never comes.
            if (!released)
            {
                await ReleaseAsync(lease).ConfigureAwait(false);
            }
        }
    }

    // A leader that cannot read its lease id still runs the execution for its callers; it only cannot mark an outcome
    // as its own, so it publishes none and its followers find the lease free when it releases.
    private async Task<string?> BeginAsync(string flightKey, RedisKey leaseKey)
    {
        try
        {
            return await _results.BeginAsync(flightKey, leaseKey).ConfigureAwait(false);
        }
        catch (Exception exception) when (DidNotReachRedis(exception))
        {
            _circuit.Failed(probe: false, exception is TimeoutException ? RedisFallbacks.Timeout : RedisFallbacks.Unreachable, exception);
            return null;
        }
    }

    // Bounded like every step; skipped while Redis is known to be down, so the leader's callers do not wait on it. An
    // outcome that does not reach Redis costs the followers an election once the lease is free (or their bound, if the
    // release does not reach Redis either): one of them runs the execution again.
    private async Task PublishAsync<TResult>(string flightKey, RedisKey leaseKey, string? owner, FlightOutcome outcome, TResult? value, JsonTypeInfo<TResult> typeInfo)
    {
        if (owner is null || !_circuit.IsClosed)
        {
            return;
        }

        // Written before any Redis call. A value the contract cannot write (a JsonException, a NotSupportedException, or
        // whatever a property getter throws) is this instance's problem: its callers keep their answer, and the
        // followers, told "failed", run the execution themselves.
        byte[] payload;
        try
        {
            payload = ResultEnvelope.Write(outcome, owner, value, typeInfo);
        }
        catch (Exception)
        {
            payload = ResultEnvelope.Write(FlightOutcome.Failed, owner, default, typeInfo);
        }

        try
        {
            await _results.PublishAsync(flightKey, leaseKey, owner, payload).ConfigureAwait(false);
        }
        catch (Exception exception) when (DidNotReachRedis(exception))
        {
            _circuit.Failed(probe: false, exception is TimeoutException ? RedisFallbacks.Timeout : RedisFallbacks.Unreachable, exception);
        }
    }

    // While Redis is known to be down, the release runs in the background: it stops the renewals at once and its Redis
    // part waits at most RedisTimeout, but the caller does not wait for it. The TTL frees a key it cannot.
    private ValueTask ReleaseAsync(RedisLease lease)
    {
        if (_circuit.IsClosed)
        {
            return lease.DisposeAsync();
        }

        _ = lease.DisposeAsync().AsTask();
        return ValueTask.CompletedTask;
    }

    // Bounded by the Redis timeout; an acquisition that completes after the caller gave up is released, so a lease
    // nobody uses does not keep other instances waiting for a result that will never come.
    private async Task<RedisLease?> AcquireAsync(string flightKey, CancellationToken cancellationToken)
    {
        Task<RedisLease?> acquiring = _leases.TryAcquireAsync(flightKey, CancellationToken.None).AsTask();
        try
        {
            return await acquiring.WaitAsync(_redisTimeout, _timeProvider, cancellationToken).ConfigureAwait(false);
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
        catch (Exception exception) when (DidNotReachRedis(exception))
        {
            // The lease key expires after its TTL on its own.
        }
    }

    private ValueTask<TResult> RunLocallyAsync<TResult>(string scene, string reason, Func<CancellationToken, ValueTask<TResult>> execute, CancellationToken cancellationToken)
    {
        _fallbacks.Add(scene, reason);
        return execute(cancellationToken);
    }

    // RedisTimeoutException is a TimeoutException; a connection closed under a call fails with ObjectDisposedException;
    // the lock library gathers its failures into an AggregateException.
    private static bool DidNotReachRedis(Exception exception) => exception switch
    {
        TimeoutException or RedisException or ObjectDisposedException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(DidNotReachRedis),
        _ => false,
    };

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) => _circuit.ConnectionLost(e.Exception);

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) => _circuit.ConnectionRestored();

    // The connection belongs to RedisConnection, which the container disposes after this.
    public void Dispose()
    {
        _connection.ConnectionFailed -= OnConnectionFailed;
        _connection.ConnectionRestored -= OnConnectionRestored;
        _circuit.Dispose();
    }

    // The lease when this instance leads; otherwise the leader's result, or why the execution runs locally.
    private readonly record struct Election<TResult>(RedisLease? Lease, string? FallbackReason, TResult? Value)
    {
        public static Election<TResult> Lead(RedisLease lease) => new(lease, null, default);

        public static Election<TResult> Answered(TResult value) => new(null, null, value);

        public static Election<TResult> Local(string reason) => new(null, reason, default);
    }
}
