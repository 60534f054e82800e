using System;
using System.Diagnostics;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Infrastructure;

/// <summary>What a test can see in Redis of the instances that wait for another instance's result.</summary>
internal static class Followers
{
    /// <summary>
    /// Returns once <paramref name="count"/> subscriptions to result announcements under <paramref name="prefix"/> exist:
    /// a follower subscribes before it looks for the result, so from then on the leader's announcement reaches it.
    /// </summary>
    public static async Task WaitingAsync(RedisServer server, string prefix, int count, TimeSpan bound)
    {
        await using ConnectionMultiplexer admin = await server.ConnectAsync();
        IServer redis = admin.GetServer(admin.GetEndPoints()[0]);
        Stopwatch waited = Stopwatch.StartNew();
        while (true)
        {
            long waiting = 0;
            foreach (RedisResult channel in (RedisResult[])(await redis.ExecuteAsync("PUBSUB", "CHANNELS", prefix + "done:*"))!)
            {
                waiting += (long)(await redis.ExecuteAsync("PUBSUB", "NUMSUB", (string)channel!))[1];
            }

            if (waiting == count)
            {
                return;
            }

            Assert.True(waited.Elapsed < bound, $"{waiting} of {count} followers wait for a result");
            await Task.Delay(10);
        }
    }
}
