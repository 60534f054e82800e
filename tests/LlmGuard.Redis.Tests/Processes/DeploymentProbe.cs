using System;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Redis.Instance;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Processes;

/// <summary>
/// The test's own view of the Redis every instance shares: how many executions ran, who holds which lease, and who
/// waits for which result. Each <c>Until</c> wait polls an observable condition, at most its bound.
/// </summary>
public sealed class DeploymentProbe(ConnectionMultiplexer admin, string keyPrefix) : IAsyncDisposable
{
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(10);

    private IDatabase Database => admin.GetDatabase();

    private IServer Server => admin.GetServer(admin.GetEndPoints()[0]);

    public async Task<long> ExecutionsAsync(string question) =>
        (long?)await Database.StringGetAsync(CountingModel.ExecutionsKey(keyPrefix, question)) ?? 0;

    /// <summary>Lets every held execution answer.</summary>
    public Task ReleaseAsync() => Database.StringSetAsync(CountingModel.ReleaseKey(keyPrefix), 1);

    /// <summary>The lease keys of this deployment: one per key whose execution runs somewhere.</summary>
    public async Task<string[]> LeaseKeysAsync() =>
        [.. (await Server.KeysAsync(pattern: keyPrefix + "lease:*").ToArrayAsync()).Select(key => (string)key!)];

    /// <summary>The owner id the lease library wrote into a lease key, or null once the key is gone.</summary>
    public async Task<string?> LeaseOwnerAsync(string leaseKey) => await Database.StringGetAsync(leaseKey);

    public async Task<TimeSpan?> LeaseRemainingAsync(string leaseKey) => await Database.KeyTimeToLiveAsync(leaseKey);

    /// <summary>How many instances wait for the result of the flight whose lease is <paramref name="leaseKey"/>.</summary>
    public async Task<long> FollowersAsync(string leaseKey)
    {
        string channel = keyPrefix + "done:" + leaseKey[(keyPrefix + "lease:").Length..];
        var reply = (RedisResult[])(await Server.ExecuteAsync("PUBSUB", "NUMSUB", channel))!;
        return (long)reply[1];
    }

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan bound, Func<Task<string>> describe)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (!await condition())
        {
            if (waited.Elapsed > bound)
            {
                Assert.Fail($"Not within {bound}: {await describe()}");
            }

            await Task.Delay(s_poll);
        }
    }

    public ValueTask DisposeAsync() => admin.DisposeAsync();
}
