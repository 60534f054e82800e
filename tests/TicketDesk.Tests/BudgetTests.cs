using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Json;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using TicketDesk.Tickets;

namespace TicketDesk.Tests;

/// <summary>appsettings.json's per-tenant daily token budget, made tiny so one autofill spends it.</summary>
public sealed class BudgetTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_tenant_over_its_budget_gets_the_guessed_draft_without_a_model_call_while_another_tenant_gets_the_model()
    {
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(
            settings: new Dictionary<string, string?> { ["LlmGuard:Budgets:tenant-daily:Tokens"] = "1" });
        using var calls = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), "LlmGuard", "llmguard.calls");
        using HttpClient acme = host.CreateClient(tenant: "acme");
        using HttpClient globex = host.CreateClient(tenant: "globex");

        TicketDraft spent = await AutofillAsync(acme, "My parcel never arrived");
        TicketDraft refused = await AutofillAsync(acme, "The app crashes at login");
        int requestsBeforeGlobex = host.Provider.Requests;
        TicketDraft other = await AutofillAsync(globex, "The app crashes at login");

        Assert.Equal("model", spent.Source);
        Assert.Equal(new TicketDraft("The app crashes at login", "general", "normal", "fallback"), refused);
        Assert.Equal(1, requestsBeforeGlobex);
        Assert.Equal(new TicketDraft("The app crashes at login", "technical", "normal", "model"), other);
        Assert.Equal(2, host.Provider.Requests);
        Assert.Equal(["success", "rejected", "success"], calls.GetMeasurementSnapshot().Select(call => (string)call.Tags["llmguard.result"]!));
        Assert.Contains(host.Logs.GetSnapshot(), log => log.Id.Id == 8 && log.Category == "LlmGuard" && log.Message.Contains("tenant-daily", StringComparison.Ordinal));
    }

    private static async Task<TicketDraft> AutofillAsync(HttpClient client, string text)
    {
        using HttpResponseMessage response = await client.PostAsJsonAsync("/tickets/autofill", new AutofillRequest(text)).WaitAsync(s_bound);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TicketDraft>())!;
    }
}
