using System;
using System.Threading.Tasks;
using LlmGuard.Redis.Instance;
using LlmGuard.Redis.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace LlmGuard.Redis.Tests.Processes;

/// <summary>
/// The instance that holds a key's lease is a process the test kills (SIGKILL) in the middle of the execution; the
/// other instance runs inside the test.
/// </summary>
/// <remarks>The lease must expire in redis-server itself, so these tests run on the real clock with a short lease TTL,
/// and wait on what Redis shows (the lease key and its owner), each wait bounded.</remarks>
public sealed class KilledLeaseHolderTests(RedisServer server) : IClassFixture<RedisServer>
{
    private const string Key = "which plan";
    private static readonly TimeSpan s_leaseTtl = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    private readonly string _prefix = "killed-" + Guid.NewGuid().ToString("N") + ":";

    [Fact]
    public async Task The_lease_of_a_killed_holder_stays_until_its_TTL_and_then_another_instance_runs_a_new_execution()
    {
        await using var probe = new DeploymentProbe(await server.ConnectAsync(), _prefix);
        await using InstanceProcess holder = await InstanceProcess.StartAsync(Settings("process"), [Key], callersPerKey: 1);
        // A follower would wait this long before running the execution itself: longer than the test's bound, so only
        // the free lease can let the new execution run.
        await using ServiceProvider other = await InstanceHost.StartAsync(Settings("test") with { FollowerWait = TimeSpan.FromSeconds(60) });
        (string lease, string owner) = await HolderExecutingAsync(holder, probe);

        await holder.KillAsync();

        Assert.Equal(owner, await probe.LeaseOwnerAsync(lease));
        Assert.InRange(await probe.LeaseRemainingAsync(lease) ?? TimeSpan.Zero, TimeSpan.FromTicks(1), s_leaseTtl);
        await DeploymentProbe.UntilAsync(
            async () => await probe.LeaseOwnerAsync(lease) is null,
            s_leaseTtl + s_bound,
            async () => $"the lease is still held, {await probe.LeaseRemainingAsync(lease)} left");
        Assert.Equal(1, await probe.ExecutionsAsync(Key));

        Task<string> call = other.GetRequiredService<CountingAssistant>().AskAsync(Key);
        await DeploymentProbe.UntilAsync(
            async () => await probe.ExecutionsAsync(Key) == 2,
            s_bound,
            async () => $"{await probe.ExecutionsAsync(Key)} executions, lease owner {await probe.LeaseOwnerAsync(lease)}");
        string? newOwner = await probe.LeaseOwnerAsync(lease);
        Assert.NotNull(newOwner);
        Assert.NotEqual(owner, newOwner);
        await probe.ReleaseAsync();

        Assert.Equal(CountingModel.Answer(Key, "test", 2), await call.WaitAsync(s_bound));
    }

    [Fact]
    public async Task A_caller_waiting_on_a_killed_holder_gets_no_second_execution_before_the_lease_TTL_and_is_answered_after_it()
    {
        await using var probe = new DeploymentProbe(await server.ConnectAsync(), _prefix);
        await using InstanceProcess holder = await InstanceProcess.StartAsync(Settings("process"), [Key], callersPerKey: 1);
        // Longer than the lease TTL, so a follower that stops waiting on its own cannot run before the lease expired.
        InstanceSettings waiting = Settings("test") with { FollowerWait = TimeSpan.FromSeconds(8) };
        await using ServiceProvider other = await InstanceHost.StartAsync(waiting);
        (string lease, string owner) = await HolderExecutingAsync(holder, probe);
        Task<string> call = other.GetRequiredService<CountingAssistant>().AskAsync(Key);
        await DeploymentProbe.UntilAsync(
            async () => await probe.FollowersAsync(lease) == 1,
            s_bound,
            async () => $"{await probe.FollowersAsync(lease)} instances wait for the result");

        await holder.KillAsync();

        Assert.Equal(owner, await probe.LeaseOwnerAsync(lease));
        // The count is read before the owner: a second execution seen while the dead holder's lease still stood ran
        // before the TTL.
        await DeploymentProbe.UntilAsync(
            async () =>
            {
                long executions = await probe.ExecutionsAsync(Key);
                if (await probe.LeaseOwnerAsync(lease) != owner)
                {
                    return true;
                }

                Assert.True(executions == 1, $"{executions} executions while the killed holder's lease stands");
                return false;
            },
            s_leaseTtl + s_bound,
            async () => $"the killed holder's lease is still held, {await probe.LeaseRemainingAsync(lease)} left");
        await probe.ReleaseAsync();

        // Answered by one new execution on the surviving instance: right after the lease expired when the follower
        // takes the free lease itself, at the latest when its FollowerWait ends.
        Assert.Equal(CountingModel.Answer(Key, "test", 2), await call.WaitAsync(waiting.FollowerWait + s_bound));
        Assert.Equal(2, await probe.ExecutionsAsync(Key));
    }

    // A Redis step must fit inside the lease it may renew or release, and be long enough that a slow poll on a loaded
    // machine does not make the waiting instance run the execution locally while the killed holder's lease stands.
    private InstanceSettings Settings(string name) =>
        new(server.Configuration, _prefix, name) { LeaseTtl = s_leaseTtl, RedisTimeout = TimeSpan.FromSeconds(2) };

    // The process leads the key's only execution, held in the model, under a lease whose owner id the test keeps.
    private static async Task<(string Lease, string Owner)> HolderExecutingAsync(InstanceProcess holder, DeploymentProbe probe)
    {
        await holder.GoAsync();
        await holder.WaitForLineAsync("issued", s_bound);
        await DeploymentProbe.UntilAsync(
            async () => await probe.ExecutionsAsync(Key) == 1 && (await probe.LeaseKeysAsync()).Length == 1,
            s_bound,
            async () => $"{await probe.ExecutionsAsync(Key)} executions, leases: {string.Join(", ", await probe.LeaseKeysAsync())}");
        string lease = (await probe.LeaseKeysAsync())[0];
        return (lease, await probe.LeaseOwnerAsync(lease) ?? throw new InvalidOperationException("The lease expired while its holder ran."));
    }
}
