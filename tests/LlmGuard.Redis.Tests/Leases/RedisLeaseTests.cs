using System;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Redis.Leases;
using LlmGuard.Redis.Tests.Infrastructure;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Leases;

/// <summary>
/// The lease on a real Redis, held from separate connections as separate instances of an application would.
/// </summary>
/// <remarks>
/// Expiry here is Redis's own clock, which a fake time provider cannot move: the tests that depend on a TTL running out
/// (or not) use a short TTL and bounded polling against the server, and assert only what Redis guarantees.
/// </remarks>
public sealed class RedisLeaseTests(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    // Renewals come every third of it: two seconds leave a loaded test machine room for a late one.
    private static readonly TimeSpan s_ttl = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_releaseTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(10);

    private readonly OwnedResources _owned = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _owned.DisposeAsync().AsTask();

    [Fact]
    public async Task Only_one_of_two_instances_holds_a_key_until_its_owner_releases_it()
    {
        RedisLeases first = await InstanceAsync();
        RedisLeases second = await InstanceAsync();
        string key = NewKey();

        RedisLease? held = await first.TryAcquireAsync(key, CancellationToken.None);
        Assert.NotNull(held);
        Assert.Null(await second.TryAcquireAsync(key, CancellationToken.None));
        Assert.Null(await first.TryAcquireAsync(key, CancellationToken.None));

        // Another key is independent of the held one.
        await using (RedisLease? other = await second.TryAcquireAsync(NewKey(), CancellationToken.None))
        {
            Assert.NotNull(other);
        }

        await held.DisposeAsync();
        await using RedisLease? next = await second.TryAcquireAsync(key, CancellationToken.None);
        Assert.NotNull(next);
    }

    [Fact]
    public async Task Concurrent_attempts_from_two_instances_give_each_key_to_exactly_one()
    {
        RedisLeases[] instances = [await InstanceAsync(), await InstanceAsync()];
        const int Rounds = 25;
        const int AttemptsPerInstance = 8;
        var random = new Random(Seed());

        for (int round = 0; round < Rounds; round++)
        {
            string key = NewKey();
            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Task<RedisLease?>[] attempts = Enumerable.Range(0, 2 * AttemptsPerInstance)
                .Select(i => Task.Run(async () =>
                {
                    await go.Task;

                    // Random spins shuffle which thread reaches Redis first, round by round.
                    Thread.SpinWait(random.Next(0, 2_000));
                    return await instances[i % 2].TryAcquireAsync(key, CancellationToken.None);
                }))
                .ToArray();
            go.SetResult();
            RedisLease?[] leases = await Task.WhenAll(attempts).WaitAsync(s_bound);

            Assert.Single(leases, lease => lease is not null);
            foreach (RedisLease? lease in leases)
            {
                if (lease is not null)
                {
                    await lease.DisposeAsync();
                }
            }
        }
    }

    [Fact]
    public async Task A_stale_owners_release_does_not_free_its_successors_lease()
    {
        RedisLeases stale = await InstanceAsync();
        RedisLeases successor = await InstanceAsync();
        IDatabase redis = (await ConnectAsync()).GetDatabase();
        string key = NewKey();

        RedisLease? staleLease = await stale.TryAcquireAsync(key, CancellationToken.None);
        Assert.NotNull(staleLease);

        // The key vanishes under its owner, as it does when the owner stalls past the TTL or Redis evicts it.
        Assert.True(await redis.KeyDeleteAsync(stale.LeaseKey(key)));
        await using RedisLease? successorLease = await successor.TryAcquireAsync(key, CancellationToken.None);
        Assert.NotNull(successorLease);
        RedisValue successorId = await redis.StringGetAsync(successor.LeaseKey(key));

        // The stale owner's next renewal finds another id: it learns it no longer holds the key.
        await WaitForCancellationAsync(staleLease.Lost);

        await staleLease.DisposeAsync();
        Assert.Equal(successorId, await redis.StringGetAsync(successor.LeaseKey(key)));
        Assert.Null(await stale.TryAcquireAsync(key, CancellationToken.None));
        Assert.False(successorLease.Lost.IsCancellationRequested);
    }

    [Fact]
    public async Task A_holder_that_dies_without_releasing_frees_the_key_after_its_ttl_and_not_before()
    {
        ConnectionMultiplexer dyingConnection = await ConnectAsync();
        RedisLeases dying = new(dyingConnection, "test:", s_ttl, s_releaseTimeout, TimeProvider.System);
        RedisLeases survivor = await InstanceAsync();
        IDatabase redis = (await ConnectAsync()).GetDatabase();
        string key = NewKey();

        RedisLease? orphan = await dying.TryAcquireAsync(key, CancellationToken.None);
        Assert.NotNull(orphan);

        // The holder's process dies: its connection closes with no release, so no renewal reaches Redis again.
        await dyingConnection.CloseAsync(allowCommandsToComplete: false);
        TimeSpan? remaining = await redis.KeyTimeToLiveAsync(dying.LeaseKey(key));
        Stopwatch sinceRemainingRead = Stopwatch.StartNew();
        Assert.NotNull(remaining);
        Assert.InRange(remaining.Value, TimeSpan.FromMilliseconds(1), s_ttl);
        Assert.Null(await survivor.TryAcquireAsync(key, CancellationToken.None));

        await using RedisLease taken = await AcquireWithinAsync(survivor, key, s_ttl + s_bound);

        // Redis expires a key no earlier than its TTL; a few milliseconds cover the read of the TTL itself.
        Assert.True(
            sinceRemainingRead.Elapsed >= remaining.Value - TimeSpan.FromMilliseconds(50),
            $"taken after {sinceRemainingRead.Elapsed}, the orphaned lease had {remaining.Value} left");

        // Cut off from Redis for a whole TTL, the dead holder's own view agrees that it lost the key.
        await WaitForCancellationAsync(orphan.Lost);
        await orphan.DisposeAsync();
    }

    [Fact]
    public async Task A_holder_running_longer_than_its_ttl_keeps_the_lease_through_renewals()
    {
        RedisLeases holder = await InstanceAsync();
        RedisLeases contender = await InstanceAsync();
        IDatabase redis = (await ConnectAsync()).GetDatabase();
        string key = NewKey();

        RedisLease? lease = await holder.TryAcquireAsync(key, CancellationToken.None);
        Assert.NotNull(lease);
        RedisValue ownerId = await redis.StringGetAsync(holder.LeaseKey(key));

        // Three TTLs of real time, bounded by attempt count: without renewal the key would have expired twice over.
        Stopwatch held = Stopwatch.StartNew();
        for (int attempt = 0; attempt < 200 && held.Elapsed < 3 * s_ttl; attempt++)
        {
            Assert.Null(await contender.TryAcquireAsync(key, CancellationToken.None));
            await Task.Delay(50);
        }

        Assert.True(held.Elapsed >= 3 * s_ttl, $"only {held.Elapsed} observed");
        Assert.False(lease.Lost.IsCancellationRequested);
        Assert.Equal(ownerId, await redis.StringGetAsync(holder.LeaseKey(key)));

        await lease.DisposeAsync();
        await using RedisLease? next = await contender.TryAcquireAsync(key, CancellationToken.None);
        Assert.NotNull(next);
    }

    [Fact]
    public async Task A_ttl_the_lock_library_cannot_honour_is_rejected_when_the_leases_are_created()
    {
        ConnectionMultiplexer connection = await ConnectAsync();

        Assert.Throws<ArgumentOutOfRangeException>(() => new RedisLeases(connection, "test:", TimeSpan.FromMilliseconds(10), s_releaseTimeout, TimeProvider.System));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RedisLeases(connection, "test:", s_ttl, TimeSpan.Zero, TimeProvider.System));
    }

    private async Task<RedisLeases> InstanceAsync() => new(await ConnectAsync(), "test:", s_ttl, s_releaseTimeout, TimeProvider.System);

    private async Task<ConnectionMultiplexer> ConnectAsync()
    {
        ConnectionMultiplexer connection = await server.ConnectAsync();
        _owned.Add(connection);
        return connection;
    }

    private static string NewKey() => "key-" + Guid.NewGuid().ToString("N");

    private static int Seed()
    {
        int seed = Environment.TickCount;
        Console.WriteLine($"seed {seed}");
        return seed;
    }

    // Polls Redis itself: the key frees on the server's clock, not on one the test controls.
    private static async Task<RedisLease> AcquireWithinAsync(RedisLeases leases, string key, TimeSpan bound)
    {
        Stopwatch waited = Stopwatch.StartNew();
        while (waited.Elapsed < bound)
        {
            if (await leases.TryAcquireAsync(key, CancellationToken.None) is { } lease)
            {
                return lease;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"The lease for {key} was not free within {bound}.");
    }

    private static async Task WaitForCancellationAsync(CancellationToken token)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using CancellationTokenRegistration registration = token.Register(() => cancelled.TrySetResult());
        await cancelled.Task.WaitAsync(s_bound);
    }
}
