using System;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace LlmGuard.Redis.Results;

/// <summary>
/// Carries the outcome of the execution for a key from the instance that ran it to the instances that waited: the
/// leader stores it under a key with a TTL and announces it on a channel; a follower takes it when announced, or finds
/// it by polling if the announcement never reaches it.
/// </summary>
/// <remarks>
/// <para>Pub/sub alone would lose a result announced before the follower subscribed, or while its connection was
/// reconnecting; the stored copy covers both, and its TTL keeps it a hand-off rather than a cache.</para>
/// <para>The outcome is a <see cref="ResultEnvelope"/>: a failure or an abandoned execution wakes the followers as a
/// result does, instead of leaving them to wait out their bound. Values are written with the application's
/// <see cref="JsonTypeInfo{T}"/> (a source-generated context), so the channel needs no reflection and works in native
/// AOT.</para>
/// <para>Every Redis command waits at most the Redis timeout, on the channel's clock.</para>
/// </remarks>
internal sealed class RedisResultChannel
{
    // Publishes only while the lease is this leader's or nobody's: a leader that lost its lease to a successor leaves
    // the successor's followers its successor's result. One script, so the announcement never precedes the value.
    private const string PublishScript = """
        local holder = redis.call('GET', KEYS[1])
        if holder and holder ~= ARGV[1] then return 0 end
        redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
        redis.call('PUBLISH', ARGV[4], '')
        return 1
        """;

    private readonly IConnectionMultiplexer _connection;
    private readonly string _keyPrefix;
    private readonly TimeSpan _resultTtl;
    private readonly TimeSpan _pollInterval;
    private readonly TimeSpan _redisTimeout;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates a channel over <paramref name="connection"/>.</summary>
    /// <param name="connection">The connection to Redis.</param>
    /// <param name="keyPrefix">Prepended to every key and channel, so deployments can share one Redis.</param>
    /// <param name="resultTtl">How long a published result stays for followers that have not taken it yet.</param>
    /// <param name="pollInterval">How often a follower looks for the result when no announcement has come.</param>
    /// <param name="redisTimeout">The longest one Redis command may take.</param>
    /// <param name="timeProvider">The clock of the polling, of the wait's bound and of the Redis timeout.</param>
    public RedisResultChannel(IConnectionMultiplexer connection, string keyPrefix, TimeSpan resultTtl, TimeSpan pollInterval, TimeSpan redisTimeout, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(resultTtl, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pollInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(redisTimeout, TimeSpan.Zero);
        _connection = connection;
        _keyPrefix = keyPrefix;
        _resultTtl = resultTtl;
        _pollInterval = pollInterval;
        _redisTimeout = redisTimeout;
        _timeProvider = timeProvider;
    }

    /// <summary>
    /// Starts a leader's execution of <paramref name="key"/>: deletes the outcome an earlier execution left and reads
    /// the id the leader's lease holds, which marks this execution's outcome as its own.
    /// </summary>
    /// <param name="key">The guard key.</param>
    /// <param name="leaseKey">The Redis key of the lease the leader holds.</param>
    /// <returns>The lease's id, or <see langword="null"/> when the lease is already gone.</returns>
    /// <exception cref="TimeoutException">Redis did not answer within the Redis timeout.</exception>
    public async Task<string?> BeginAsync(string key, RedisKey leaseKey)
    {
        ArgumentNullException.ThrowIfNull(key);
        ITransaction transaction = _connection.GetDatabase().CreateTransaction();
        _ = transaction.KeyDeleteAsync(ResultKey(key));
        Task<RedisValue> owner = transaction.StringGetAsync(leaseKey);
        await transaction.ExecuteAsync().WaitAsync(_redisTimeout, _timeProvider).ConfigureAwait(false);
        return (string?)await owner.ConfigureAwait(false);
    }

    /// <summary>Stores a leader's outcome for <paramref name="key"/> and announces it to the followers.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="key">The guard key.</param>
    /// <param name="leaseKey">The Redis key of the lease.</param>
    /// <param name="owner">The lease id <see cref="BeginAsync"/> returned.</param>
    /// <param name="outcome"><see cref="FlightOutcome.Succeeded"/>, <see cref="FlightOutcome.Failed"/> or <see cref="FlightOutcome.Abandoned"/>.</param>
    /// <param name="value">The result, when the execution succeeded.</param>
    /// <param name="typeInfo">How to write <typeparamref name="T"/>.</param>
    /// <returns>Whether the outcome was stored: not when another owner holds the lease now.</returns>
    /// <exception cref="TimeoutException">Redis did not answer within the Redis timeout.</exception>
    public async Task<bool> PublishAsync<T>(string key, RedisKey leaseKey, string owner, FlightOutcome outcome, T? value, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(typeInfo);
        return await PublishAsync(key, leaseKey, owner, ResultEnvelope.Write(outcome, owner, value, typeInfo)).ConfigureAwait(false);
    }

    /// <summary>Stores an envelope <see cref="ResultEnvelope.Write"/> wrote for <paramref name="key"/> and announces it to the followers.</summary>
    /// <param name="key">The guard key.</param>
    /// <param name="leaseKey">The Redis key of the lease.</param>
    /// <param name="owner">The lease id <see cref="BeginAsync"/> returned, the one the envelope names.</param>
    /// <param name="payload">The envelope.</param>
    /// <returns>Whether the outcome was stored: not when another owner holds the lease now.</returns>
    /// <exception cref="TimeoutException">Redis did not answer within the Redis timeout.</exception>
    public async Task<bool> PublishAsync(string key, RedisKey leaseKey, string owner, byte[] payload)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(payload);
        RedisResult stored = await _connection.GetDatabase()
            .ScriptEvaluateAsync(
                PublishScript,
                [leaseKey, ResultKey(key)],
                [owner, payload, (long)_resultTtl.TotalMilliseconds, ChannelName(key)])
            .WaitAsync(_redisTimeout, _timeProvider)
            .ConfigureAwait(false);
        return (long)stored == 1;
    }

    /// <summary>Reads the outcome stored for <paramref name="key"/> without waiting, as the holder of its lease.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="key">The guard key.</param>
    /// <param name="typeInfo">How to read <typeparamref name="T"/>.</param>
    /// <param name="witness">What this caller's looks saw: only an outcome it accepts counts.</param>
    /// <returns>The stored outcome, or <see langword="null"/> when none is stored, it is not the witnessed leader's, or it does not read as a <typeparamref name="T"/>.</returns>
    /// <exception cref="TimeoutException">Redis did not answer within the Redis timeout.</exception>
    public async Task<FollowerLook<T>?> ReadAsync<T>(string key, JsonTypeInfo<T> typeInfo, LeaderWitness witness)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(typeInfo);
        ArgumentNullException.ThrowIfNull(witness);
        RedisValue stored = await _connection.GetDatabase().StringGetAsync(ResultKey(key)).WaitAsync(_redisTimeout, _timeProvider).ConfigureAwait(false);
        if (stored.IsNull)
        {
            return null;
        }

        try
        {
            // The caller holds the lease now, so no other holder's outcome can be current.
            return ResultEnvelope.Read((byte[])stored!, typeInfo, owner => witness.Accepts(owner, holder: null));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Waits for the outcome of the current leader's execution of <paramref name="key"/>, at most <paramref name="bound"/>.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="key">The guard key.</param>
    /// <param name="leaseKey">The Redis key of the lease, read with each look: no holder and no result means no leader.</param>
    /// <param name="typeInfo">How to read <typeparamref name="T"/>.</param>
    /// <param name="witness">What this caller's looks saw of the key's leaders, kept across its waits.</param>
    /// <param name="bound">The longest the wait lasts, on the channel's clock.</param>
    /// <param name="redisLost">Cancelled when the connection to Redis is lost: the wait ends with <see cref="FlightOutcome.RedisLost"/>.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>What the wait found.</returns>
    /// <exception cref="TimeoutException">A Redis command did not answer within the Redis timeout.</exception>
    public async Task<FollowerLook<T>> WaitAsync<T>(string key, RedisKey leaseKey, JsonTypeInfo<T> typeInfo, LeaderWitness witness, TimeSpan bound, CancellationToken redisLost, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(typeInfo);
        ArgumentNullException.ThrowIfNull(witness);
        IDatabase database = _connection.GetDatabase();
        ISubscriber subscriber = _connection.GetSubscriber();
        RedisChannel channel = Channel(key);
        RedisKey[] keys = [leaseKey, ResultKey(key)];
        var announcements = new Announcements();
        Action<RedisChannel, RedisValue> onAnnounced = (_, _) => announcements.Announce();

        // The bound is a CTS's own timer rather than an ITimer that cancels `bounded`: disposing an ITimer does not wait
        // for a callback already running, which could then cancel a disposed source and throw on a timer thread.
        using var deadline = new CancellationTokenSource(bound, _timeProvider);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, redisLost, deadline.Token);

        // Subscribe before the first look: a result published in between is then either read or announced, never missed.
        try
        {
            await subscriber.SubscribeAsync(channel, onAnnounced).WaitAsync(_redisTimeout, _timeProvider, bounded.Token).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            // A subscription that completes after this wait gave up would keep its handler on the connection for good.
            await UnsubscribeAsync(subscriber, channel, onAnnounced).ConfigureAwait(false);
            if (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return Ended<T>(redisLost);
            }

            throw;
        }

        try
        {
            while (true)
            {
                RedisValue[] looked;
                try
                {
                    looked = await database.StringGetAsync(keys).WaitAsync(_redisTimeout, _timeProvider, bounded.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return Ended<T>(redisLost);
                }

                if (Look(looked[0], looked[1], typeInfo, witness) is { } found)
                {
                    return found;
                }

                if (bounded.IsCancellationRequested)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    return Ended<T>(redisLost);
                }

                Task announcement = announcements.Next;
                Task poll = Task.Delay(_pollInterval, _timeProvider, bounded.Token);
                if (await Task.WhenAny(announcement, poll).ConfigureAwait(false) == announcement)
                {
                    announcements.Rearm();
                }
            }
        }
        finally
        {
            await UnsubscribeAsync(subscriber, channel, onAnnounced).ConfigureAwait(false);
        }
    }

    // Fire and forget: leaving must not wait on a Redis that may be gone. A failure here (the multiplexer disposed under
    // the wait throws ObjectDisposedException) must not replace the result the wait found or the exception it ends
    // with; a handler left on a disposed connection is gone with it, and on a live one it only wakes a finished wait.
    private static async Task UnsubscribeAsync(ISubscriber subscriber, RedisChannel channel, Action<RedisChannel, RedisValue> onAnnounced)
    {
        try
        {
            await subscriber.UnsubscribeAsync(channel, onAnnounced, CommandFlags.FireAndForget).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is ObjectDisposedException or RedisException or TimeoutException)
        {
        }
    }

    // A stored outcome counts when it is this follower's leader's (see LeaderWitness); one left by an earlier execution
    // is not, and the follower keeps waiting while someone holds the lease, or elects again once nobody does.
    private static FollowerLook<T>? Look<T>(RedisValue holder, RedisValue stored, JsonTypeInfo<T> typeInfo, LeaderWitness witness)
    {
        string? holderId = holder;
        witness.Saw(holderId, outcomeStored: !stored.IsNull);
        FollowerLook<T>? look = null;
        if (!stored.IsNull)
        {
            try
            {
                look = ResultEnvelope.Read((byte[])stored!, typeInfo, owner => witness.Accepts(owner, holderId));
            }
            catch (JsonException)
            {
                return new FollowerLook<T>(FlightOutcome.Unreadable, default);
            }
        }

        return look ?? (holderId is null ? new FollowerLook<T>(FlightOutcome.NoLeader, default) : null);
    }

    private static FollowerLook<T> Ended<T>(CancellationToken redisLost) =>
        new(redisLost.IsCancellationRequested ? FlightOutcome.RedisLost : FlightOutcome.TimedOut, default);

    // Each announcement wakes one look. A follower woken by one that turned out not to be its leader's (an abandoned
    // leader's, before its successor took over) must still hear the successor's: the woken look re-arms first, so an
    // announcement that arrives while it looks wakes the next wait instead of being lost.
    private sealed class Announcements
    {
        private TaskCompletionSource _signal = New();

        public Task Next => Volatile.Read(ref _signal).Task;

        public void Announce() => Volatile.Read(ref _signal).TrySetResult();

        public void Rearm() => Volatile.Write(ref _signal, New());

        private static TaskCompletionSource New() => new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>The Redis key that holds the result for a guard key.</summary>
    /// <param name="key">The guard key.</param>
    internal RedisKey ResultKey(string key) => _keyPrefix + "result:" + key;

    /// <summary>The channel that announces the result for a guard key.</summary>
    /// <param name="key">The guard key.</param>
    internal RedisChannel Channel(string key) => RedisChannel.Literal(ChannelName(key));

    private string ChannelName(string key) => _keyPrefix + "done:" + key;
}
