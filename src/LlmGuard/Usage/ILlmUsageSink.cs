using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Usage;

/// <summary>
/// Receives the usage records of completed executions, in batches, on one background loop: never on a caller's path.
/// </summary>
/// <remarks>
/// A sink that throws is logged and receives the next batch as usual. A sink slower than the executions makes the
/// bounded queue fill, and records that do not fit are dropped and counted rather than slow a caller down.
/// </remarks>
public interface ILlmUsageSink
{
    /// <summary>Writes one batch of usage records.</summary>
    /// <param name="records">The records, oldest first; valid only until the returned task completes.</param>
    /// <param name="cancellationToken">Cancelled when the runtime stops delivering records.</param>
    /// <returns>A task that completes when the batch is written.</returns>
    ValueTask WriteAsync(IReadOnlyList<LlmUsageRecord> records, CancellationToken cancellationToken);
}
