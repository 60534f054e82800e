using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Json;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Simulation;
using TicketDesk.Conversations;
using TicketDesk.Model;
using TicketDesk.Tickets;

namespace TicketDesk.Tests;

/// <summary>LlmGuard's metrics as the service's exporters see them: through the host's <see cref="IMeterFactory"/>.</summary>
public sealed class TelemetryTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Concurrent_identical_autofills_count_one_execution_four_joined_callers_and_the_tokens_they_saved()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(options => options with { HoldAnswersUntil = release.Task });
        IMeterFactory meterFactory = host.Services.GetRequiredService<IMeterFactory>();
        using var calls = new MetricCollector<long>(meterFactory, "LlmGuard", "llmguard.calls");
        using var executions = new MetricCollector<long>(meterFactory, "LlmGuard", "llmguard.executions");
        using var tokenUsage = new MetricCollector<long>(meterFactory, "LlmGuard", "gen_ai.client.token.usage");
        using var tokensSaved = new MetricCollector<long>(meterFactory, "LlmGuard", "llmguard.tokens.saved");
        using HttpClient client = host.CreateClient(tenant: "acme");

        Task[] autofills = [.. Enumerable.Range(0, 5).Select(_ => PostAsync(client, "/tickets/autofill", new AutofillRequest("The app crashes at login")))];
        await host.Arrivals.WhenArrived(5).WaitAsync(s_bound);
        release.SetResult();
        await Task.WhenAll(autofills).WaitAsync(s_bound);
        await calls.WaitForMeasurementsAsync(5, s_bound);
        await executions.WaitForMeasurementsAsync(1, s_bound);
        await tokenUsage.WaitForMeasurementsAsync(2, s_bound);

        (long input, long output) = ProviderUsage(SimulatedRequestAssert.Single(host.Provider, prompt: "The app crashes at login"));
        Assert.Equal(
            ["executed/success", "joined/success", "joined/success", "joined/success", "joined/success"],
            calls.GetMeasurementSnapshot().Select(Describe("ticket_autofill")).Order(StringComparer.Ordinal));
        CollectedMeasurement<long> execution = Assert.Single(executions.GetMeasurementSnapshot());
        Assert.Equal(1, execution.Value);
        Assert.Equal("ticket_autofill", execution.Tags["llmguard.scene"]);
        Assert.Equal("success", execution.Tags["llmguard.result"]);
        Assert.Equal(
            [("input", input), ("output", output)],
            tokenUsage.GetMeasurementSnapshot().Select(m => ((string)m.Tags["gen_ai.token.type"]!, m.Value)).Order());
        Assert.Equal(4 * (input + output), tokensSaved.GetMeasurementSnapshot().Sum(m => m.Value));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Random_bursts_of_identical_autofills_count_one_executed_caller_per_tenant_and_the_rest_joined(int seed)
    {
        var random = new Random(seed);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(options => options with { HoldAnswersUntil = release.Task });
        IMeterFactory meterFactory = host.Services.GetRequiredService<IMeterFactory>();
        using var calls = new MetricCollector<long>(meterFactory, "LlmGuard", "llmguard.calls");
        using var tokensSaved = new MetricCollector<long>(meterFactory, "LlmGuard", "llmguard.tokens.saved");
        int tenants = random.Next(1, 5);
        HttpClient[] clients = [.. Enumerable.Range(0, tenants).Select(t => host.CreateClient(tenant: $"tenant-{t}"))];
        int[] order = [.. Enumerable.Range(0, tenants).SelectMany(t => Enumerable.Repeat(t, random.Next(1, 7))).OrderBy(_ => random.Next())];

        Task[] autofills = [.. order.Select(t => PostAsync(clients[t], "/tickets/autofill", new AutofillRequest("Refund for order 1042")))];
        await host.Arrivals.WhenArrived(order.Length).WaitAsync(s_bound);
        release.SetResult();
        await Task.WhenAll(autofills).WaitAsync(s_bound);
        await calls.WaitForMeasurementsAsync(order.Length, s_bound);

        // Every tenant's prompt is the same text, so every execution used the same tokens.
        (long input, long output) = ProviderUsage(host.Provider.Received[0]);
        string[] outcomes = [.. calls.GetMeasurementSnapshot().Select(Describe("ticket_autofill"))];
        string context = $"Seed {seed}: {order.Length} calls from {tenants} tenant(s).";
        Assert.True(tenants == outcomes.Count(o => o == "executed/success"), context);
        Assert.True(order.Length - tenants == outcomes.Count(o => o == "joined/success"), context);
        Assert.True((order.Length - tenants) * (input + output) == tokensSaved.GetMeasurementSnapshot().Sum(m => m.Value), context);
        foreach (HttpClient client in clients)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task A_burst_of_chat_messages_counts_the_first_caller_executed_and_the_others_merged()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T09:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(timeProvider: clock);
        using var calls = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), "LlmGuard", "llmguard.calls");
        using HttpClient client = host.CreateClient(tenant: "acme");

        // One at a time, so the first message is the one that opened the window.
        Task first = PostAsync(client, "/conversations/c-17/reply", new ChatMessageRequest("hi"));
        await host.Arrivals.WhenArrived(1).WaitAsync(s_bound);
        Task second = PostAsync(client, "/conversations/c-17/reply", new ChatMessageRequest("my order 1042"));
        await host.Arrivals.WhenArrived(2).WaitAsync(s_bound);
        Task third = PostAsync(client, "/conversations/c-17/reply", new ChatMessageRequest("it never came"));
        await host.Arrivals.WhenArrived(3).WaitAsync(s_bound);
        clock.Advance(TimeSpan.FromMilliseconds(400));
        await Task.WhenAll(first, second, third).WaitAsync(s_bound);
        await calls.WaitForMeasurementsAsync(3, s_bound);

        Assert.Equal(1, host.Provider.Requests);
        Assert.Equal(
            ["executed/success", "merged/success", "merged/success"],
            calls.GetMeasurementSnapshot().Select(Describe("chat_reply")).Order(StringComparer.Ordinal));
    }

    /// <summary>The tokens the simulated provider reported for <paramref name="request"/>: four characters a token.</summary>
    internal static (long Input, long Output) ProviderUsage(SimulatedRequest request) =>
        (Math.Max(1, (request.Instructions.Length + request.Prompt.Length) / 4), Math.Max(1, SimulatedAnswers.Answer(request).Length / 4));

    // "outcome/result" of one counted call, after checking it counts one call of the scene.
    private static Func<CollectedMeasurement<long>, string> Describe(string scene) => measurement =>
    {
        Assert.Equal(1, measurement.Value);
        Assert.Equal(scene, measurement.Tags["llmguard.scene"]);
        return $"{measurement.Tags["llmguard.outcome"]}/{measurement.Tags["llmguard.result"]}";
    };

    private static async Task PostAsync<TBody>(HttpClient client, string path, TBody body)
    {
        using HttpResponseMessage response = await client.PostAsJsonAsync(path, body);
        response.EnsureSuccessStatusCode();
    }
}
