using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace LlmGuard.Extensions.AI.Tests;

/// <summary>Requests through <c>UseLlmGuard()</c> report the same metrics as a guarded method's calls.</summary>
public sealed class TelemetryTests
{
    [Fact]
    public async Task Shared_requests_count_one_executed_call_and_the_joined_ones_and_record_the_responses_tokens_once()
    {
        var release = new TaskCompletionSource();
        await using GuardedChat chat = await GuardedChat.StartAsync(
            guard => guard.Scene = "support_chat",
            ServerReply.After(release.Task, ServerReply.Status(200, GuardedChat.Completion)));
        using MetricCollector<long> calls = chat.Collect<long>("llmguard.calls");
        using MetricCollector<long> executions = chat.Collect<long>("llmguard.executions");
        using MetricCollector<long> tokens = chat.Collect<long>("gen_ai.client.token.usage");

        Task<ChatResponse>[] requests = Enumerable.Range(0, 3).Select(_ => chat.Chat.GetResponseAsync("Where is my order?")).ToArray();
        await chat.Server.WaitForRequestsAsync(1);
        release.SetResult();
        await Task.WhenAll(requests).Within();

        Assert.Equal(
            new Dictionary<string, long> { ["support_chat/executed/success"] = 1, ["support_chat/joined/success"] = 2 },
            calls.GetMeasurementSnapshot()
                .GroupBy(m => $"{m.Tags["llmguard.scene"]}/{m.Tags["llmguard.outcome"]}/{m.Tags["llmguard.result"]}")
                .ToDictionary(g => g.Key, g => g.Sum(m => m.Value)));
        Assert.Equal(1, executions.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.Equal(
            ["input=11 gpt-4o-mini", "output=7 gpt-4o-mini"],
            tokens.GetMeasurementSnapshot().Select(m => $"{m.Tags["gen_ai.token.type"]}={m.Value} {m.Tags["gen_ai.request.model"]}").Order());
    }
}
