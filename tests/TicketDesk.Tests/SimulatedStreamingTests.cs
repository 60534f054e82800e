using System;
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;
using OpenAI;
using Simulation;

namespace TicketDesk.Tests;

/// <summary>
/// The simulated provider's streamed answers, read by the real OpenAI SDK through Microsoft.Extensions.AI, as the
/// sample's streaming endpoint reads them.
/// </summary>
public sealed class SimulatedStreamingTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    private static readonly SimulatedProviderOptions s_reliable = new()
    {
        RateLimitedRate = 0,
        UnavailableRate = 0,
        HangRate = 0,
        MinLatency = TimeSpan.Zero,
        MaxLatency = TimeSpan.Zero,
        ChunkInterval = TimeSpan.Zero,
        Answer = static _ => "Your parcel left our warehouse this morning and arrives tomorrow.",
    };

    [Fact]
    public async Task A_streamed_answer_arrives_a_few_words_per_update_and_ends_with_its_usage()
    {
        await using SimulatedProvider provider = await SimulatedProvider.StartAsync(s_reliable);
        IChatClient chat = Client(provider);

        List<ChatResponseUpdate> updates = await ReadAllAsync(chat.GetStreamingResponseAsync("Where is my parcel?"), CancellationToken.None).WaitAsync(s_bound);

        string[] texts = updates.Select(update => update.Text).Where(text => text.Length > 0).ToArray();
        Assert.Equal(["Your parcel left ", "our warehouse this ", "morning and arrives ", "tomorrow."], texts);
        UsageContent usage = Assert.Single(updates.SelectMany(update => update.Contents).OfType<UsageContent>());
        Assert.Equal(Math.Max(1, "Where is my parcel?".Length / 4), usage.Details.InputTokenCount);
        Assert.Equal("Your parcel left our warehouse this morning and arrives tomorrow.".Length / 4, usage.Details.OutputTokenCount);
        Assert.Contains(updates, update => update.FinishReason == ChatFinishReason.Stop);
        SimulatedRequest request = Assert.Single(provider.Received);
        Assert.True(request.Stream);
        Assert.True(request.IncludeUsage);
    }

    [Fact]
    public async Task A_failure_of_a_streamed_request_comes_before_its_first_chunk_as_the_status_the_sdk_reports()
    {
        await using SimulatedProvider provider = await SimulatedProvider.StartAsync(s_reliable with { UnavailableRate = 1 });
        IChatClient chat = Client(provider);

        ClientResultException failure = await Assert.ThrowsAsync<ClientResultException>(
            () => ReadAllAsync(chat.GetStreamingResponseAsync("Where is my parcel?"), CancellationToken.None).WaitAsync(s_bound));

        Assert.Equal(503, failure.Status);
    }

    [Fact]
    public async Task A_client_that_stops_reading_a_stream_aborts_the_request_before_the_rest_is_written()
    {
        var release = new TaskCompletionSource();
        await using SimulatedProvider provider = await SimulatedProvider.StartAsync(s_reliable with { HoldStreamsAfterFirstChunkUntil = release.Task });
        IChatClient chat = Client(provider);

        using var stop = new CancellationTokenSource();
        var texts = new List<string>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (ChatResponseUpdate update in chat.GetStreamingResponseAsync("Where is my parcel?", cancellationToken: stop.Token))
            {
                if (update.Text.Length > 0)
                {
                    texts.Add(update.Text);
                    await stop.CancelAsync();
                }
            }
        }).WaitAsync(s_bound);

        await provider.WhenAborted(1).WaitAsync(s_bound);
        Assert.Equal(["Your parcel left "], texts);
        release.SetResult();
    }

    private static IChatClient Client(SimulatedProvider provider) =>
        new OpenAIClient(
            new ApiKeyCredential("simulated-provider-accepts-any-key"),
            new OpenAIClientOptions { Endpoint = provider.Endpoint, RetryPolicy = new ClientRetryPolicy(maxRetries: 0) })
            .GetChatClient("ticketdesk-model")
            .AsIChatClient();

    private static async Task<List<ChatResponseUpdate>> ReadAllAsync(IAsyncEnumerable<ChatResponseUpdate> updates, CancellationToken cancellationToken)
    {
        var all = new List<ChatResponseUpdate>();
        await foreach (ChatResponseUpdate update in updates.WithCancellation(cancellationToken))
        {
            all.Add(update);
        }

        return all;
    }
}
