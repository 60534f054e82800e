using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Distribution;
using StackExchange.Redis;

namespace LlmGuard.Redis.Budgets;

/// <summary>
/// The token budgets' shared counts in Redis: one integer per budget and partition, whose TTL is the period the first
/// tokens started.
/// </summary>
/// <remarks>
/// Every call is bounded by the Redis timeout and throws when Redis does not answer within it; the runtime then keeps
/// counting on this instance alone, and never waits for these calls on a caller's path.
/// </remarks>
internal sealed class RedisBudgets : IDistributedBudgets
{
    // One script, so the count and its expiry change together: a period starts with the first tokens counted in it, as
    // it does on one instance, and adding to a running period never extends it.
    private const string AddScript = """
        local total = redis.call('INCRBY', KEYS[1], ARGV[1])
        if redis.call('PTTL', KEYS[1]) < 0 then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return total
        """;

    private readonly IConnectionMultiplexer _connection;
    private readonly string _keyPrefix;
    private readonly TimeSpan _redisTimeout;

    public RedisBudgets(IConnectionMultiplexer connection, string keyPrefix, TimeSpan redisTimeout, TimeSpan refreshInterval)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        _connection = connection;
        _keyPrefix = keyPrefix;
        _redisTimeout = redisTimeout;
        RefreshInterval = refreshInterval;
    }

    public TimeSpan RefreshInterval { get; }

    public async ValueTask<long> AddAsync(string budget, string partition, TimeSpan period, long tokens, CancellationToken cancellationToken)
    {
        // PEXPIRE takes whole milliseconds; a period shorter than one still expires.
        long periodMilliseconds = Math.Max(1, (long)Math.Ceiling(period.TotalMilliseconds));
        RedisResult total = await _connection.GetDatabase()
            .ScriptEvaluateAsync(AddScript, [Key(budget, partition)], [tokens, periodMilliseconds])
            .WaitAsync(_redisTimeout, cancellationToken)
            .ConfigureAwait(false);
        return (long)total;
    }

    public async ValueTask<long> ReadAsync(string budget, string partition, CancellationToken cancellationToken)
    {
        RedisValue total = await _connection.GetDatabase()
            .StringGetAsync(Key(budget, partition))
            .WaitAsync(_redisTimeout, cancellationToken)
            .ConfigureAwait(false);

        // No key: no period is running, nothing is spent.
        return total.IsNull ? 0 : (long)total;
    }

    internal RedisKey Key(string budget, string partition) => _keyPrefix + "budget:" + budget + ":" + partition;
}
