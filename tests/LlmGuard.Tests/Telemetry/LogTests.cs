using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace LlmGuard.Tests.Telemetry;

[Collection(nameof(TelemetryCollection))]
public sealed class LogTests
{
    private const string Prompt = "my card 4111-1111 was charged twice";

    [Fact]
    public async Task A_failed_execution_logs_event_1_with_the_exception()
    {
        using var observed = new Observed();
        Task<Reply> answer = observed.Desk.AskAsync(Prompt);
        var failure = new InvalidOperationException("400: bad request");
        (await observed.Model.NextCallAsync()).Fail(failure);
        await Assert.ThrowsAsync<InvalidOperationException>(() => answer);

        FakeLogRecord record = Single(observed, 1);
        Assert.Equal("ExecutionFailed", record.Id.Name);
        Assert.Equal(LogLevel.Error, record.Level);
        Assert.Equal("LlmGuard", record.Category);
        Assert.Same(failure, record.Exception);
        Assert.Equal("desk", record.GetStructuredStateValue("Scene"));
    }

    [Fact]
    public async Task A_retry_logs_event_2_with_its_delay_and_the_failure_kind()
    {
        using var observed = new Observed();
        Task<Reply> answer = observed.Desk.AskAsync(Prompt);
        (await observed.Model.NextCallAsync()).Fail(new HttpRequestException("busy", null, HttpStatusCode.ServiceUnavailable));
        (await observed.Model.NextCallAsync()).Succeed("refunded");
        await answer;

        FakeLogRecord record = Single(observed, 2);
        Assert.Equal("RetryScheduled", record.Id.Name);
        Assert.Equal("transient", record.GetStructuredStateValue("Reason"));
        Assert.Equal("1", record.GetStructuredStateValue("AttemptNumber"));
        Assert.NotNull(record.GetStructuredStateValue("Delay"));
        Assert.IsType<HttpRequestException>(record.Exception);
    }

    [Fact]
    public async Task A_timed_out_attempt_logs_event_3_and_its_retry_names_the_timeout()
    {
        using var observed = new Observed();
        Task<Reply> answer = observed.Desk.AskAsync(Prompt);
        await observed.Model.NextCallAsync();
        observed.Clock.Advance(TimeSpan.FromMilliseconds(1000));
        (await observed.Model.NextCallAsync()).Succeed("refunded");
        await answer;

        Assert.Equal("AttemptTimedOut", Single(observed, 3).Id.Name);
        Assert.Equal("timeout", Single(observed, 2).GetStructuredStateValue("Reason"));
    }

    [Fact]
    public async Task Every_fallback_use_logs_event_4_with_the_exception()
    {
        using var observed = new Observed();
        for (int i = 0; i < 2; i++)
        {
            Task<Reply> answer = observed.Desk.AskOrApologizeAsync(Prompt);
            (await observed.Model.NextCallAsync()).Fail(new UnauthorizedAccessException("401: invalid API key"));
            await answer;
        }

        FakeLogRecord[] records = observed.Logs.GetSnapshot().Where(r => r.Id.Id == 4).ToArray();
        Assert.Equal(2, records.Length);
        Assert.All(records, r => Assert.Equal("FallbackUsed", r.Id.Name));
        Assert.All(records, r => Assert.IsType<UnauthorizedAccessException>(r.Exception));
    }

    [Fact]
    public async Task A_category_raised_to_warning_still_logs_every_fallback_use_but_no_retry()
    {
        using var observed = new Observed(minimumLevel: LogLevel.Warning);
        Task<Reply> retried = observed.Desk.AskAsync(Prompt);
        (await observed.Model.NextCallAsync()).Fail(new HttpRequestException("busy", null, HttpStatusCode.ServiceUnavailable));
        (await observed.Model.NextCallAsync()).Succeed("refunded");
        await retried;
        Task<Reply> answer = observed.Desk.AskOrApologizeAsync(Prompt);
        (await observed.Model.NextCallAsync()).Fail(new UnauthorizedAccessException("401: invalid API key"));
        await answer;

        Assert.Equal(new[] { 4 }, observed.Logs.GetSnapshot().Select(r => r.Id.Id));
    }

    [Fact]
    public async Task Logs_show_the_key_as_a_short_hash_and_never_the_arguments()
    {
        using var observed = new Observed();
        Task<Reply> answer = observed.Desk.AskAsync(Prompt);
        (await observed.Model.NextCallAsync()).Fail(new HttpRequestException("busy", null, HttpStatusCode.ServiceUnavailable));
        (await observed.Model.NextCallAsync()).Fail(new InvalidOperationException("400: bad request"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => answer);
        Task<Reply> other = observed.Desk.AskAsync("another question");
        (await observed.Model.NextCallAsync()).Fail(new InvalidOperationException("400: bad request"));
        await Assert.ThrowsAsync<InvalidOperationException>(() => other);

        IReadOnlyList<FakeLogRecord> records = observed.Logs.GetSnapshot();
        string?[] hashes = records.Select(r => r.GetStructuredStateValue("KeyHash")).ToArray();
        Assert.Equal(3, hashes.Length);
        Assert.All(hashes, hash => Assert.Matches(new Regex("^[0-9a-f]{8}$"), hash!));

        // One key, one hash: the retry and the failure of the first question line up; the second question differs.
        Assert.Equal(hashes[0], hashes[1]);
        Assert.NotEqual(hashes[0], hashes[2]);
        Assert.All(records, r => Assert.DoesNotContain("4111", r.Message + string.Join(";", r.StructuredState!.Select(p => p.Value))));
    }

    [Fact]
    public async Task Logs_carry_the_call_context_as_a_scope()
    {
        using var observed = new Observed();
        Task<Reply> answer;
        using (LlmCallContext.Begin(tenant: "acme", user: "u7", conversation: "c42", module: "billing", requestId: "r1"))
        {
            answer = observed.Desk.AskOrApologizeAsync(Prompt);
        }

        (await observed.Model.NextCallAsync()).Fail(new InvalidOperationException("400: bad request"));
        await answer;

        var scope = Assert.IsAssignableFrom<IEnumerable<KeyValuePair<string, object?>>>(Assert.Single(Single(observed, 4).Scopes));
        Assert.Equal(
            new Dictionary<string, object?> { ["Tenant"] = "acme", ["User"] = "u7", ["Conversation"] = "c42", ["Module"] = "billing", ["RequestId"] = "r1" },
            scope.ToDictionary(p => p.Key, p => p.Value));
    }

    private static FakeLogRecord Single(Observed observed, int eventId) =>
        Assert.Single(observed.Logs.GetSnapshot(), r => r.Id.Id == eventId);
}
