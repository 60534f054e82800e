using LlmGuard.Usage;
using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Data.Sqlite;
using TicketDesk.Usage;

namespace TicketDesk.Tests;

public sealed class UsageStoreTests : IDisposable
{
    private readonly string _databasePath = Path.Combine(Path.GetTempPath(), $"ticketdesk-store-{Guid.NewGuid():N}.db");

    [Fact]
    public async Task A_batch_that_fails_midway_inserts_none_of_its_rows()
    {
        var store = new UsageStore(_databasePath);
        LlmUsageRecord valid = Entry("acme");
        LlmUsageRecord withoutScene = Entry("acme") with { Scene = null! };

        // The first row is inserted before the second fails; the transaction takes it back.
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.InsertAsync([valid, withoutScene], CancellationToken.None));

        Assert.Empty(await store.GetDailyUsageAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Rows_of_calls_made_outside_a_tenant_are_reported_under_no_tenant()
    {
        var store = new UsageStore(_databasePath);

        await store.InsertAsync([Entry(tenant: null), Entry(tenant: null)], CancellationToken.None);

        DailyUsage day = Assert.Single(await store.GetDailyUsageAsync(CancellationToken.None));
        Assert.Equal(new DailyUsage("2026-12-01", Tenant: null, Executions: 2, CallersAnswered: 2, InputTokens: 200, OutputTokens: 40, Cost: 0.002m, TokensSaved: 0), day);
    }

    public void Dispose()
    {
        // SQLite keeps pooled connections to the file open; clearing the pool lets it be deleted.
        SqliteConnection.ClearAllPools();
        File.Delete(_databasePath);
    }

    private static LlmUsageRecord Entry(string? tenant) =>
        new()
        {
            Scene = "chat_reply",
            Model = "ticketdesk-model",
            InputTokens = 100,
            OutputTokens = 20,
            Cost = 0.001m,
            Duration = TimeSpan.FromMilliseconds(120),
            Result = "success",
            Tenant = tenant,
            User = null,
            Conversation = "c-1",
            Module = "chat",
            RequestId = null,
            CallersAnswered = 1,
            TokensSaved = 0,
            CompletedAt = new DateTimeOffset(2026, 12, 1, 8, 0, 0, TimeSpan.Zero),
        };
}
