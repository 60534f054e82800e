using LlmGuard.Usage;
using System;
using System.Globalization;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using TicketDesk.Tickets;
using TicketDesk.Usage;

namespace TicketDesk.Tests;

public sealed class UsageReportTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_shared_autofill_reaches_the_daily_report_with_its_cost_and_the_tokens_it_saved()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(options => options with { HoldAnswersUntil = release.Task });
        using HttpClient client = host.CreateClient(tenant: "acme", user: "ana");
        const string Text = "I was charged twice for order 1042 and again for order 1043; please refund both charges to my card.";

        string dayBefore = Today();
        Task<HttpResponseMessage>[] autofills = [.. Enumerable.Range(0, 5).Select(_ => client.PostAsJsonAsync("/tickets/autofill", new AutofillRequest(Text)))];
        await host.Arrivals.WhenArrived(5).WaitAsync(s_bound);
        release.SetResult();
        foreach (HttpResponseMessage response in await Task.WhenAll(autofills).WaitAsync(s_bound))
        {
            response.EnsureSuccessStatusCode();
            response.Dispose();
        }

        (long input, long output) = TelemetryTests.ProviderUsage(SimulatedRequestAssert.Single(host.Provider, prompt: Text));
        DailyUsage day = Assert.Single(await WaitForDailyUsageAsync(client));

        // appsettings.json prices ticketdesk-model at 0.15 per million input tokens and 0.60 per million output tokens.
        decimal cost = (input * 0.15m + output * 0.60m) / 1_000_000m;
        Assert.Contains(day.Day, new[] { dayBefore, Today() });
        Assert.Equal(
            new DailyUsage(day.Day, "acme", Executions: 1, CallersAnswered: 5, input, output, Math.Round(cost, 6), TokensSaved: 4 * (input + output)),
            day);
    }
    [Fact]
    public async Task Daily_usage_sums_cost_and_tokens_saved_per_tenant_per_day()
    {
        await using TicketDeskHost host = await TicketDeskHost.StartAsync();
        UsageStore store = host.Services.GetRequiredService<UsageStore>();
        await store.InsertAsync(
            [
                Entry("acme", "2026-11-30T23:59:59Z", cost: 0.0012m, tokensSaved: 300, callersAnswered: 4),
                Entry("acme", "2026-12-01T00:00:00Z", cost: 0.0020m, tokensSaved: 0, callersAnswered: 1),
                Entry("acme", "2026-12-01T10:30:00Z", cost: 0.0005m, tokensSaved: 150, callersAnswered: 2),
                Entry("globex", "2026-12-01T11:00:00Z", cost: null, tokensSaved: 75, callersAnswered: 2),
            ],
            CancellationToken.None);
        using HttpClient client = host.CreateClient();

        DailyUsage[]? days = await client.GetFromJsonAsync<DailyUsage[]>("/usage/daily");

        Assert.NotNull(days);
        Assert.Equal(
            [
                new DailyUsage("2026-11-30", "acme", Executions: 1, CallersAnswered: 4, InputTokens: 100, OutputTokens: 20, Cost: 0.0012m, TokensSaved: 300),
                new DailyUsage("2026-12-01", "acme", Executions: 2, CallersAnswered: 3, InputTokens: 200, OutputTokens: 40, Cost: 0.0025m, TokensSaved: 150),
                new DailyUsage("2026-12-01", "globex", Executions: 1, CallersAnswered: 2, InputTokens: 100, OutputTokens: 20, Cost: null, TokensSaved: 75),
            ],
            days);
    }

    [Fact]
    public async Task Daily_usage_is_empty_before_any_execution_is_recorded()
    {
        await using TicketDeskHost host = await TicketDeskHost.StartAsync();
        using HttpClient client = host.CreateClient();

        DailyUsage[]? days = await client.GetFromJsonAsync<DailyUsage[]>("/usage/daily");

        Assert.NotNull(days);
        Assert.Empty(days);
    }

    // The execution completes on the system clock, between the two readings when the test runs across midnight.
    private static string Today() => DateTimeOffset.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    // The sink writes off the callers' path, after they were answered: poll the report, real time since it is I/O.
    private static async Task<DailyUsage[]> WaitForDailyUsageAsync(HttpClient client)
    {
        for (int poll = 0; poll < 200; poll++)
        {
            DailyUsage[]? days = await client.GetFromJsonAsync<DailyUsage[]>("/usage/daily");
            if (days is { Length: > 0 })
            {
                return days;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }

        throw new TimeoutException("No usage row reached /usage/daily within 10 s.");
    }

    private static LlmUsageRecord Entry(string tenant, string completedAt, decimal? cost, long tokensSaved, int callersAnswered) =>
        new()
        {
            Scene = "ticket_autofill",
            Model = "ticketdesk-model",
            InputTokens = 100,
            OutputTokens = 20,
            Cost = cost,
            Duration = TimeSpan.FromMilliseconds(250),
            Result = "success",
            Tenant = tenant,
            User = "ana",
            Conversation = null,
            Module = "tickets",
            RequestId = "req-1",
            CallersAnswered = callersAnswered,
            TokensSaved = tokensSaved,
            CompletedAt = DateTimeOffset.Parse(completedAt, System.Globalization.CultureInfo.InvariantCulture),
        };
}
