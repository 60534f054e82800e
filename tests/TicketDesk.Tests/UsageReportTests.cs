using LlmGuard.Usage;
using System;
using System.Net.Http;
using System.Net.Http.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using TicketDesk.Usage;

namespace TicketDesk.Tests;

public sealed class UsageReportTests
{
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
