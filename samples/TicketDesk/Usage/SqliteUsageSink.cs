using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Usage;

namespace TicketDesk.Usage;

/// <summary>Writes LlmGuard's usage records into the usage table, one transaction per batch.</summary>
public sealed class SqliteUsageSink(UsageStore store) : ILlmUsageSink
{
    /// <inheritdoc/>
    public async ValueTask WriteAsync(IReadOnlyList<LlmUsageRecord> records, CancellationToken cancellationToken) =>
        await store.InsertAsync(records, cancellationToken);
}
