using System;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace LlmGuard.Redis.Results;

/// <summary>
/// Carries the result of the execution for a key from the instance that ran it to the instances that waited: the
/// leader stores it under a key with a TTL and announces it on a channel; a follower takes it when announced, or finds
/// it by polling if the announcement never reaches it.
/// </summary>
/// <remarks>
/// <para>Pub/sub alone would lose a result announced before the follower subscribed, or while its connection was
/// reconnecting; the stored copy covers both, and its TTL keeps it a hand-off rather than a cache.</para>
/// <para>Results are written with the application's <see cref="JsonTypeInfo{T}"/> (a source-generated context), so the
/// channel needs no reflection and works in native AOT.</para>
/// </remarks>
internal sealed class RedisResultChannel
{
    private static readonly Task s_never = new TaskCompletionSource().Task;

    private readonly IConnectionMultiplexer _connection;
    private readonly string _keyPrefix;
    private readonly TimeSpan _resultTtl;
    private readonly TimeSpan _pollInterval;
    private readonly TimeProvider _timeProvider;

    /// <summary>Creates a channel over <paramref name="connection"/>.</summary>
    /// <param name="connection">The connection to Redis.</param>
    /// <param name="keyPrefix">Prepended to every key and channel, so deployments can share one Redis.</param>
    /// <param name="resultTtl">How long a published result stays for followers that have not taken it yet.</param>
    /// <param name="pollInterval">How often a follower looks for the result when no announcement has come.</param>
    /// <param name="timeProvider">The clock of the polling and of the wait's bound.</param>
    public RedisResultChannel(IConnectionMultiplexer connection, string keyPrefix, TimeSpan resultTtl, TimeSpan pollInterval, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(resultTtl, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(pollInterval, TimeSpan.Zero);
        _connection = connection;
        _keyPrefix = keyPrefix;
        _resultTtl = resultTtl;
        _pollInterval = pollInterval;
        _timeProvider = timeProvider;
    }

    /// <summary>Stores the result for <paramref name="key"/> and announces it to the followers.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="key">The guard key.</param>
    /// <param name="value">The result.</param>
    /// <param name="typeInfo">How to write <typeparamref name="T"/>.</param>
    /// <returns>Whether Redis stored and announced the result.</returns>
    public async Task<bool> PublishAsync<T>(string key, T value, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(typeInfo);
        byte[] payload = JsonSerializer.SerializeToUtf8Bytes(value, typeInfo);

        // One transaction: an announcement never arrives before the value it announces can be read.
        ITransaction transaction = _connection.GetDatabase().CreateTransaction();
        _ = transaction.StringSetAsync(ResultKey(key), payload, _resultTtl);
        _ = transaction.PublishAsync(Channel(key), RedisValue.EmptyString);
        return await transaction.ExecuteAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes the result an earlier execution of <paramref name="key"/> left, so the followers of a new execution wait
    /// for its result rather than read the old one (the channel is a hand-off between concurrent calls, not a cache).
    /// </summary>
    /// <param name="key">The guard key.</param>
    /// <returns>Completes when Redis deleted the key.</returns>
    public Task ClearAsync(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return _connection.GetDatabase().KeyDeleteAsync(ResultKey(key));
    }

    /// <summary>Waits for the result for <paramref name="key"/>, at most <paramref name="bound"/>.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="key">The guard key.</param>
    /// <param name="typeInfo">How to read <typeparamref name="T"/>.</param>
    /// <param name="bound">The longest the wait lasts, on the channel's clock.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>The result, or no result when none was published within <paramref name="bound"/>.</returns>
    /// <exception cref="JsonException">The stored result is not a <typeparamref name="T"/> (another version of the application wrote it).</exception>
    public async Task<(bool Found, T? Value)> WaitAsync<T>(string key, JsonTypeInfo<T> typeInfo, TimeSpan bound, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(typeInfo);
        IDatabase database = _connection.GetDatabase();
        ISubscriber subscriber = _connection.GetSubscriber();
        RedisChannel channel = Channel(key);
        var announced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Action<RedisChannel, RedisValue> onAnnounced = (_, _) => announced.TrySetResult();

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using ITimer deadline = _timeProvider.CreateTimer(static state => ((CancellationTokenSource)state!).Cancel(), bounded, bound, Timeout.InfiniteTimeSpan);

        // Subscribe before the first look: a result published in between is then either read or announced, never missed.
        try
        {
            await subscriber.SubscribeAsync(channel, onAnnounced).WaitAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, default);
        }

        try
        {
            Task announcement = announced.Task;
            while (true)
            {
                RedisValue stored;
                try
                {
                    stored = await database.StringGetAsync(ResultKey(key)).WaitAsync(bounded.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return (false, default);
                }

                if (stored.HasValue)
                {
                    return (true, JsonSerializer.Deserialize((byte[])stored!, typeInfo));
                }

                if (bounded.IsCancellationRequested)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    return (false, default);
                }

                Task poll = Task.Delay(_pollInterval, _timeProvider, bounded.Token);
                if (await Task.WhenAny(announcement, poll).ConfigureAwait(false) == announcement)
                {
                    // An announcement wakes one look; after it only polls do, so a stray announcement cannot spin the loop.
                    announcement = s_never;
                }
            }
        }
        finally
        {
            // Fire and forget: leaving must not wait on a Redis that may be gone.
            await subscriber.UnsubscribeAsync(channel, onAnnounced, CommandFlags.FireAndForget).ConfigureAwait(false);
        }
    }

    /// <summary>The Redis key that holds the result for a guard key.</summary>
    /// <param name="key">The guard key.</param>
    internal RedisKey ResultKey(string key) => _keyPrefix + "result:" + key;

    /// <summary>The channel that announces the result for a guard key.</summary>
    /// <param name="key">The guard key.</param>
    internal RedisChannel Channel(string key) => RedisChannel.Literal(_keyPrefix + "done:" + key);
}
