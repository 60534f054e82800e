using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Redis.Instance;
using LlmGuard.Redis.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace LlmGuard.Redis.Tests.Processes;

/// <summary>
/// A deployment of three instances on one real Redis: two processes of the instance program and one inside the test,
/// each with its own container, runtime and connection.
/// </summary>
public sealed class ProcessBurstTests(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_burst_of_1000_callers_over_two_processes_and_the_test_runs_one_execution_per_key_and_answers_every_caller_with_it()
    {
        string[] keys = ["which plan", "refund status", "invoice copy", "upgrade path"];

        // 250 callers per key, 1,000 in all, split over the three instances.
        int[] callersPerKey = [84, 83, 83];
        string prefix = "procs-" + Guid.NewGuid().ToString("N") + ":";
        await using var probe = new DeploymentProbe(await server.ConnectAsync(), prefix);
        Task<InstanceProcess>[] starting =
        [
            InstanceProcess.StartAsync(new InstanceSettings(server.Configuration, prefix, "process-1"), keys, callersPerKey[0]),
            InstanceProcess.StartAsync(new InstanceSettings(server.Configuration, prefix, "process-2"), keys, callersPerKey[1]),
        ];
        try
        {
            InstanceProcess[] processes = await Task.WhenAll(starting);
            await using ServiceProvider local = await InstanceHost.StartAsync(new InstanceSettings(server.Configuration, prefix, "test"));
            CountingAssistant assistant = local.GetRequiredService<CountingAssistant>();

            foreach (InstanceProcess process in processes)
            {
                await process.GoAsync();
            }

            var localCalls = new List<(string Key, Task<string> Answer)>();
            for (int call = 0; call < callersPerKey[2]; call++)
            {
                foreach (string key in keys)
                {
                    localCalls.Add((key, assistant.AskAsync(key)));
                }
            }

            foreach (InstanceProcess process in processes)
            {
                await process.WaitForLineAsync("issued", s_bound);
            }

            // Every key's execution runs somewhere and holds its lease, and the two other instances wait for its
            // result: from here on no instance can start a second execution of a key, whenever the leaders answer.
            await DeploymentProbe.UntilAsync(
                async () => (await probe.LeaseKeysAsync()).Length == keys.Length,
                s_bound,
                async () => $"leases held: {string.Join(", ", await probe.LeaseKeysAsync())}");
            string[] leases = await probe.LeaseKeysAsync();
            await DeploymentProbe.UntilAsync(
                async () => (await Task.WhenAll(leases.Select(probe.FollowersAsync))).All(followers => followers == 2),
                s_bound,
                async () => $"followers per lease: {string.Join(", ", await Task.WhenAll(leases.Select(probe.FollowersAsync)))}");
            await probe.ReleaseAsync();

            var outcomes = new List<CallerOutcome>();
            foreach (InstanceProcess process in processes)
            {
                outcomes.AddRange(await process.OutcomesAsync(s_bound));
            }

            await Task.WhenAll(localCalls.Select(c => c.Answer)).WaitAsync(s_bound);
            outcomes.AddRange(localCalls.GroupBy(c => (c.Key, Text: c.Answer.Result)).Select(g => new CallerOutcome("answer", g.Key.Key, g.Count(), g.Key.Text)));

            string report = string.Join("\n", outcomes);
            foreach (string key in keys)
            {
                Assert.True(await probe.ExecutionsAsync(key) == 1, $"'{key}' ran {await probe.ExecutionsAsync(key)} executions:\n{report}");
                CallerOutcome[] ofKey = [.. outcomes.Where(o => o.Key == key)];
                Assert.True(ofKey.All(o => o.Kind == "answer" && o.Text == ofKey[0].Text), $"the callers of '{key}' did not all get one answer:\n{report}");
                Assert.Equal(250, ofKey.Sum(o => o.Callers));
                Assert.Matches($"^{key} answered by (process-1|process-2|test) \\(execution 1\\)$", ofKey[0].Text);
            }
        }
        finally
        {
            // Also when only one of them started: none outlives the test.
            foreach (Task<InstanceProcess> started in starting)
            {
                if (started.IsCompletedSuccessfully)
                {
                    await (await started).DisposeAsync();
                }
            }
        }
    }
}
