using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace LlmGuard.Extensions.AI.Tests;

/// <summary>Streaming requests pass through <c>UseLlmGuard()</c> unguarded, until LlmGuard guards streams.</summary>
public sealed class StreamingTests
{
    private const string Stream =
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"hel\"},\"finish_reason\":null}]}\n\n" +
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\n" +
        "data: [DONE]\n\n";

    [Fact]
    public async Task Identical_streaming_requests_each_reach_the_model_and_are_not_counted_as_guarded_calls()
    {
        await using GuardedChat chat = await GuardedChat.StartAsync(null, ServerReply.Status(200, Stream, ("Content-Type", "text/event-stream")));
        using MetricCollector<long> calls = chat.Collect<long>("llmguard.calls");

        string[] texts = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => ReadAsync(chat.Chat))).Within();

        Assert.Equal(["hello", "hello"], texts);
        Assert.Equal(2, chat.Server.Requests);
        Assert.Empty(calls.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task A_transient_failure_of_a_streaming_request_is_not_retried()
    {
        await using GuardedChat chat = await GuardedChat.StartAsync(null, ServerReply.Status(503, """{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}"""));

        await Assert.ThrowsAsync<System.ClientModel.ClientResultException>(() => ReadAsync(chat.Chat).Within());

        Assert.Equal(1, chat.Server.Requests);
    }

    private static async Task<string> ReadAsync(IChatClient chat)
    {
        var text = new StringBuilder();
        await foreach (ChatResponseUpdate update in chat.GetStreamingResponseAsync("Where is my order?"))
        {
            text.Append(update.Text);
        }

        return text.ToString();
    }
}
