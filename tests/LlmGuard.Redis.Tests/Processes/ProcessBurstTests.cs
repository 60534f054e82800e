using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Redis.Instance;
using LlmGuard.Redis.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace LlmGuard.Redis.Tests.Processes;

/// <summary>
/// A deployment on one real Redis: processes of the instance program plus one instance inside the test, each with its
/// own container, runtime and connection, all calling the same few keys at once.
/// </summary>
public sealed class ProcessBurstTests(RedisServer server) : IClassFixture<RedisServer>
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_burst_of_1000_callers_over_two_processes_and_the_test_runs_one_execution_per_key_and_answers_every_caller_with_it()
    {
        // 250 callers per key, 1,000 in all: 84 per key on each process, 83 in the test.
        await BurstAsync(["which plan", "refund status", "invoice copy", "upgrade path"], processCallersPerKey: [84, 83], testCallersPerKey: 83, new Random(0), "fixed burst");
    }

    [Fact]
    public async Task A_randomized_burst_over_processes_and_the_test_runs_one_execution_per_key()
    {
        // About 1,000 callers over 2 or 3 processes and 2 to 6 keys, the split and the test's call order drawn from
        // the seed.
        int seed = Environment.TickCount;
        var random = new Random(seed);
        string[] keys = [.. Enumerable.Range(0, random.Next(2, 7)).Select(key => "question " + key)];
        int[] processCallersPerKey = [.. Enumerable.Range(0, random.Next(2, 4)).Select(_ => 0)];
        int average = 1000 / (keys.Length * (processCallersPerKey.Length + 1));
        for (int process = 0; process < processCallersPerKey.Length; process++)
        {
            processCallersPerKey[process] = random.Next(1, 2 * average);
        }

        await BurstAsync(keys, processCallersPerKey, testCallersPerKey: random.Next(1, 2 * average), random, $"seed {seed}");
    }

    private async Task BurstAsync(string[] keys, int[] processCallersPerKey, int testCallersPerKey, Random order, string context)
    {
        string prefix = "procs-" + Guid.NewGuid().ToString("N") + ":";
        await using var probe = new DeploymentProbe(await server.ConnectAsync(), prefix);
        Task<InstanceProcess>[] starting = [.. processCallersPerKey.Select((callers, index) =>
            InstanceProcess.StartAsync(new InstanceSettings(server.Configuration, prefix, "process-" + (index + 1)), keys, callers))];
        try
        {
            InstanceProcess[] processes = await Task.WhenAll(starting);
            await using ServiceProvider local = await InstanceHost.StartAsync(new InstanceSettings(server.Configuration, prefix, "test"));
            CountingAssistant assistant = local.GetRequiredService<CountingAssistant>();

            foreach (InstanceProcess process in processes)
            {
                await process.GoAsync();
            }

            string[] localQuestions = [.. keys.SelectMany(key => Enumerable.Repeat(key, testCallersPerKey))];
            order.Shuffle(localQuestions);
            (string Key, Task<string> Answer)[] localCalls = [.. localQuestions.Select(key => (key, assistant.AskAsync(key)))];
            foreach (InstanceProcess process in processes)
            {
                await process.WaitForLineAsync("issued", s_bound);
            }

            // Every key's execution runs somewhere and holds its lease, and every other instance waits for its result:
            // from here on no instance can start a second execution of a key, whenever the leaders answer.
            int followers = processes.Length;
            await DeploymentProbe.UntilAsync(
                async () => (await probe.LeaseKeysAsync()).Length == keys.Length,
                s_bound,
                async () => $"{context}: leases held: {string.Join(", ", await probe.LeaseKeysAsync())}");
            string[] leases = await probe.LeaseKeysAsync();
            await DeploymentProbe.UntilAsync(
                async () => (await Task.WhenAll(leases.Select(probe.FollowersAsync))).All(waiting => waiting == followers),
                s_bound,
                async () => $"{context}: followers per lease: {string.Join(", ", await Task.WhenAll(leases.Select(probe.FollowersAsync)))}");
            await probe.ReleaseAsync();

            var outcomes = new List<CallerOutcome>();
            foreach (InstanceProcess process in processes)
            {
                outcomes.AddRange(await process.OutcomesAsync(s_bound));
            }

            string[] localAnswers = await Task.WhenAll(localCalls.Select(c => c.Answer)).WaitAsync(s_bound);
            outcomes.AddRange(localCalls.Zip(localAnswers, (call, answer) => (call.Key, Answer: answer))
                .GroupBy(c => c)
                .Select(g => new CallerOutcome("answer", g.Key.Key, g.Count(), g.Key.Answer)));

            string report = context + "\n" + string.Join("\n", outcomes);
            int callersPerKey = processCallersPerKey.Sum() + testCallersPerKey;
            foreach (string key in keys)
            {
                Assert.True(await probe.ExecutionsAsync(key) == 1, $"'{key}' ran {await probe.ExecutionsAsync(key)} executions; {report}");
                CallerOutcome[] ofKey = [.. outcomes.Where(o => o.Key == key)];
                Assert.True(ofKey.All(o => o.Kind == "answer" && o.Text == ofKey[0].Text), $"the callers of '{key}' did not all get one answer; {report}");
                Assert.True(ofKey.Sum(o => o.Callers) == callersPerKey, $"{ofKey.Sum(o => o.Callers)} of the {callersPerKey} callers of '{key}' answered; {report}");
                Assert.Matches($"^{key} answered by (process-[0-9]|test) \\(execution 1\\)$", ofKey[0].Text);
            }
        }
        finally
        {
            // Also when only some of them started: none outlives the test.
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
