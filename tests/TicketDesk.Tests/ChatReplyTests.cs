using System;
using System.Net.Http;
using System.Net.Http.Json;
using System.Threading.Tasks;
using Microsoft.Extensions.Time.Testing;
using TicketDesk.Conversations;

namespace TicketDesk.Tests;

public sealed class ChatReplyTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    // ChatAssistant.ReplyAsync's sliding window: it closes this long after the latest message.
    private static readonly TimeSpan s_mergeWindow = TimeSpan.FromMilliseconds(400);

    [Fact]
    public async Task A_burst_of_messages_to_one_conversation_gets_one_reply_computed_from_all_of_them()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T09:00:00Z"));
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(timeProvider: clock);
        using HttpClient client = host.CreateClient(tenant: "acme", user: "ana");

        // One at a time, so the window receives them in a known order; none closes it while the clock stands.
        Task<ChatReply> first = ReplyAsync(client, "c-17", "hi");
        await host.Arrivals.WhenArrived(1).WaitAsync(s_bound);
        Task<ChatReply> second = ReplyAsync(client, "c-17", "my order 1042");
        await host.Arrivals.WhenArrived(2).WaitAsync(s_bound);
        Task<ChatReply> third = ReplyAsync(client, "c-17", "it never came");
        await host.Arrivals.WhenArrived(3).WaitAsync(s_bound);
        Assert.Equal(0, host.Provider.Requests);

        clock.Advance(s_mergeWindow);
        ChatReply[] replies = await Task.WhenAll(first, second, third).WaitAsync(s_bound);

        SimulatedRequestAssert.Single(host.Provider, prompt: "hi\nmy order 1042\nit never came");
        var expected = new ChatReply("Thanks for your 3 message(s): hi / my order 1042 / it never came. An agent is looking into it.", "model");
        Assert.All(replies, reply => Assert.Equal(expected, reply));
    }

    [Fact]
    public async Task Messages_to_two_conversations_are_answered_separately()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T09:00:00Z"));
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(timeProvider: clock);
        using HttpClient client = host.CreateClient(tenant: "acme");

        Task<ChatReply> toFirst = ReplyAsync(client, "c-1", "where is my refund");
        Task<ChatReply> toSecond = ReplyAsync(client, "c-2", "the app crashes");
        await host.Arrivals.WhenArrived(2).WaitAsync(s_bound);
        clock.Advance(s_mergeWindow);
        ChatReply[] replies = await Task.WhenAll(toFirst, toSecond).WaitAsync(s_bound);

        Assert.Equal(2, host.Provider.Requests);
        Assert.Contains("where is my refund", replies[0].Text, StringComparison.Ordinal);
        Assert.DoesNotContain("the app crashes", replies[0].Text, StringComparison.Ordinal);
        Assert.Contains("the app crashes", replies[1].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_conversation_id_in_two_tenants_is_two_conversations()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-01T09:00:00Z"));
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(timeProvider: clock);
        using HttpClient acme = host.CreateClient(tenant: "acme");
        using HttpClient globex = host.CreateClient(tenant: "globex");

        Task<ChatReply> fromAcme = ReplyAsync(acme, "c-1", "acme's question");
        Task<ChatReply> fromGlobex = ReplyAsync(globex, "c-1", "globex's question");
        await host.Arrivals.WhenArrived(2).WaitAsync(s_bound);
        clock.Advance(s_mergeWindow);
        ChatReply[] replies = await Task.WhenAll(fromAcme, fromGlobex).WaitAsync(s_bound);

        Assert.Equal(2, host.Provider.Requests);
        Assert.DoesNotContain("globex", replies[0].Text, StringComparison.Ordinal);
        Assert.DoesNotContain("acme", replies[1].Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_provider_that_keeps_failing_hands_the_conversation_to_an_agent()
    {
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(options => options with { UnavailableRate = 1 });
        using HttpClient client = host.CreateClient(tenant: "acme");

        ChatReply reply = await ReplyAsync(client, "c-9", "hello?").WaitAsync(s_bound);

        Assert.Equal("fallback", reply.Source);
        Assert.True(host.Provider.Requests > 1, $"The provider was asked {host.Provider.Requests} time(s).");
    }

    private static async Task<ChatReply> ReplyAsync(HttpClient client, string conversation, string text)
    {
        using HttpResponseMessage response = await client.PostAsJsonAsync($"/conversations/{conversation}/reply", new ChatMessageRequest(text));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<ChatReply>())!;
    }
}
