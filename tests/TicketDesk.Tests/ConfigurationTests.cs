using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Net.Http.Json;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using TicketDesk.Tickets;

namespace TicketDesk.Tests;

/// <summary>The <c>LlmGuard</c> configuration section of the service: validated at start-up, applied on reload.</summary>
public sealed class ConfigurationTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_retry_count_changed_at_run_time_applies_to_the_next_autofill()
    {
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(options => options with { UnavailableRate = 1 });
        using HttpClient client = host.CreateClient(tenant: "acme");

        // appsettings.json: MaxRetries 2, so the first attempt and two retries before the fallback.
        Assert.Equal("fallback", (await AutofillAsync(client, "Invoice 77 is wrong")).Source);
        Assert.Equal(3, host.Provider.Requests);

        host.Settings.Change("LlmGuard:Scenes:ticket_autofill:MaxRetries", "0");
        TicketDraft draft = await AutofillAsync(client, "Invoice 78 is wrong");

        Assert.Equal("fallback", draft.Source);
        Assert.Equal(4, host.Provider.Requests);
        FakeLogRecord reloaded = Assert.Single(host.Logs.GetSnapshot(), log => log.Id.Id == 10);
        Assert.Equal("LlmGuard", reloaded.Category);
        Assert.Contains("ticket_autofill", reloaded.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_change_at_run_time_is_rejected_and_calls_keep_the_previous_settings()
    {
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(options => options with { UnavailableRate = 1 });
        using HttpClient client = host.CreateClient(tenant: "acme");

        host.Settings.Change("LlmGuard:Scenes:ticket_autofill:MaxRetries", "-1");
        TicketDraft draft = await AutofillAsync(client, "Invoice 77 is wrong");

        // Still appsettings.json's MaxRetries 2: the first attempt and two retries.
        Assert.Equal("fallback", draft.Source);
        Assert.Equal(3, host.Provider.Requests);
        FakeLogRecord rejected = Assert.Single(host.Logs.GetSnapshot(), log => log.Id.Id == 11);
        Assert.Equal("LlmGuard", rejected.Category);
        Assert.Contains("LlmGuard:Scenes:ticket_autofill:MaxRetries is -1", rejected.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(host.Logs.GetSnapshot(), log => log.Id.Id == 10);
    }

    [Fact]
    public async Task A_scene_no_guarded_method_has_stops_the_service_from_starting()
    {
        OptionsValidationException failure = await StartFailureAsync(new() { ["LlmGuard:Scenes:no_such_scene:TimeoutMs"] = "1000" });

        Assert.Contains("LlmGuard:Scenes:no_such_scene", failure.Message, StringComparison.Ordinal);
        Assert.Contains("the scenes are answer_primary, answer_small, answer_stream, chat_reply, ticket_autofill", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_timeout_out_of_range_stops_the_service_from_starting()
    {
        OptionsValidationException failure = await StartFailureAsync(new() { ["LlmGuard:Scenes:ticket_autofill:TimeoutMs"] = "5" });

        Assert.Contains("LlmGuard:Scenes:ticket_autofill:TimeoutMs is 5", failure.Message, StringComparison.Ordinal);
        Assert.Contains("allowed: 0 (no timeout) or 10 to 86400000", failure.Message, StringComparison.Ordinal);
    }

    private static async Task<OptionsValidationException> StartFailureAsync(Dictionary<string, string?> settings)
    {
        var logs = new FakeLogCollector();
        Exception failure = await Assert.ThrowsAnyAsync<Exception>(() => TicketDeskHost.StartAsync(settings: settings, logs: logs));

        // The host may wrap it; the validation failure is what the operator reads. WebApplicationFactory's deferred host
        // sometimes reports a failed start as an ObjectDisposedException of the host the failure disposed, so the error
        // the host logged when it stopped counts too: it is the operator's view of the failure.
        IEnumerable<Exception> thrown = failure is AggregateException aggregate ? aggregate.Flatten().InnerExceptions : [failure];
        IEnumerable<Exception> logged = logs.GetSnapshot().Select(record => record.Exception).OfType<Exception>();
        OptionsValidationException? validation = thrown.Concat(logged).SelectMany(Unwrap).OfType<OptionsValidationException>().FirstOrDefault();
        Assert.True(validation is not null, $"No OptionsValidationException; the start failed with:\n{failure}");
        return validation;
    }

    private static IEnumerable<Exception> Unwrap(Exception exception)
    {
        for (Exception? current = exception; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }

    private static async Task<TicketDraft> AutofillAsync(HttpClient client, string text)
    {
        using HttpResponseMessage response = await client.PostAsJsonAsync("/tickets/autofill", new AutofillRequest(text)).WaitAsync(s_bound);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TicketDraft>())!;
    }
}
