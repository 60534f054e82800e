using System;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Json;
using System.Threading.Tasks;
using TicketDesk.Tickets;

namespace TicketDesk.Tests;

public sealed class AutofillTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Autofill_returns_the_draft_the_model_wrote()
    {
        await using TicketDeskHost host = await TicketDeskHost.StartAsync();
        using HttpClient client = host.CreateClient(tenant: "acme", user: "ana");

        TicketDraft draft = await AutofillAsync(client, "I was charged twice for order 1042, please refund asap");

        Assert.Equal(new TicketDraft("I was charged twice for order 1042, please refund asap", "billing", "high", "model"), draft);
        SimulatedRequestAssert.Single(host.Provider, prompt: "I was charged twice for order 1042, please refund asap");
    }

    [Fact]
    public async Task Concurrent_identical_autofills_of_one_tenant_share_one_provider_request()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(options => options with { HoldAnswersUntil = release.Task });
        using HttpClient client = host.CreateClient(tenant: "acme");

        Task<TicketDraft>[] autofills = [.. Enumerable.Range(0, 5).Select(_ => AutofillAsync(client, "The app crashes at login"))];
        await host.Arrivals.WhenArrived(5).WaitAsync(s_bound);
        release.SetResult();
        TicketDraft[] drafts = await Task.WhenAll(autofills).WaitAsync(s_bound);

        Assert.Equal(1, host.Provider.Requests);
        Assert.All(drafts, draft => Assert.Equal(new TicketDraft("The app crashes at login", "technical", "normal", "model"), draft));
    }

    [Fact]
    public async Task Identical_autofills_of_two_tenants_are_asked_once_per_tenant()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(options => options with { HoldAnswersUntil = release.Task });
        using HttpClient acme = host.CreateClient(tenant: "acme");
        using HttpClient globex = host.CreateClient(tenant: "globex");

        Task<TicketDraft>[] autofills =
        [
            .. Enumerable.Range(0, 3).Select(_ => AutofillAsync(acme, "My parcel never arrived")),
            .. Enumerable.Range(0, 3).Select(_ => AutofillAsync(globex, "My parcel never arrived")),
        ];
        await host.Arrivals.WhenArrived(6).WaitAsync(s_bound);
        release.SetResult();
        TicketDraft[] drafts = await Task.WhenAll(autofills).WaitAsync(s_bound);

        Assert.Equal(2, host.Provider.Requests);
        Assert.All(drafts, draft => Assert.Equal("shipping", draft.Category));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Random_bursts_of_identical_autofills_make_one_provider_request_per_tenant(int seed)
    {
        var random = new Random(seed);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(options => options with { HoldAnswersUntil = release.Task });
        int tenants = random.Next(1, 5);
        HttpClient[] clients = [.. Enumerable.Range(0, tenants).Select(t => host.CreateClient(tenant: $"tenant-{t}"))];
        int[] order = [.. Enumerable.Range(0, tenants).SelectMany(t => Enumerable.Repeat(t, random.Next(1, 7))).OrderBy(_ => random.Next())];

        Task<TicketDraft>[] autofills = [.. order.Select(t => AutofillAsync(clients[t], "Refund for order 1042"))];
        await host.Arrivals.WhenArrived(order.Length).WaitAsync(s_bound);
        release.SetResult();
        await Task.WhenAll(autofills).WaitAsync(s_bound);

        Assert.True(tenants == host.Provider.Requests, $"Seed {seed}: {order.Length} calls from {tenants} tenant(s) made {host.Provider.Requests} provider request(s).");
        foreach (HttpClient client in clients)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task A_provider_that_keeps_failing_is_retried_and_the_guessed_draft_answers()
    {
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(options => options with { UnavailableRate = 1 });
        using HttpClient client = host.CreateClient(tenant: "acme");

        TicketDraft draft = await AutofillAsync(client, "Invoice 77 is wrong\nIt lists three seats, we have two.").WaitAsync(s_bound);

        Assert.Equal(new TicketDraft("Invoice 77 is wrong", "general", "normal", "fallback"), draft);
        // Every 503 was retried before the fallback answered.
        Assert.True(host.Provider.Requests > 1, $"The provider was asked {host.Provider.Requests} time(s).");
    }

    [Fact]
    public async Task An_empty_ticket_text_is_refused_without_asking_the_model()
    {
        await using TicketDeskHost host = await TicketDeskHost.StartAsync();
        using HttpClient client = host.CreateClient(tenant: "acme");

        using HttpResponseMessage response = await client.PostAsJsonAsync("/tickets/autofill", new AutofillRequest(" "));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, host.Provider.Requests);
    }

    private static async Task<TicketDraft> AutofillAsync(HttpClient client, string text)
    {
        using HttpResponseMessage response = await client.PostAsJsonAsync("/tickets/autofill", new AutofillRequest(text));
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TicketDraft>())!;
    }
}
