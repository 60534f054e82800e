using System;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Distribution;

/// <summary>
/// Counts the tokens of <see cref="Usage.LlmTokenBudget">token budgets</see> over every instance of a deployment (a
/// package such as <c>LlmGuard.Redis</c> implements it); <c>AddLlmGuard()</c> gives the runtime the one registered in
/// the container.
/// </summary>
/// <remarks>
/// <para>
/// The runtime never waits for it: admitting an execution compares the budget with the larger of this instance's own
/// count and the last shared total the hook returned for the budget and partition. Each completed execution's tokens
/// are counted locally at once and sent through <see cref="AddAsync"/> in the background, one call in flight per
/// budget and partition (tokens counted meanwhile are sent together by the next call); a partition whose shared total
/// is older than <see cref="RefreshInterval"/> is read again through <see cref="ReadAsync"/>, in the background too.
/// </para>
/// <para>
/// So another instance's spending is seen once its execution has completed and one round trip to the shared store
/// has passed, and a burst can overshoot a budget by what the instances admit in that time. An instance that has not
/// seen a partition yet admits its first execution while it reads the shared total. A call that throws costs the
/// shared count that call's tokens (they are not sent again: a call that timed out may have counted them), never a
/// caller: local counting goes on as without the hook, and the failure is logged and counted. Bound every call: the
/// next add or read of a partition waits for the one in flight.
/// </para>
/// </remarks>
public interface IDistributedBudgets
{
    /// <summary>
    /// Gets how old the shared total of a partition may grow before the next admission in it reads the total again.
    /// </summary>
    TimeSpan RefreshInterval { get; }

    /// <summary>
    /// Adds <paramref name="tokens"/> to the shared count of <paramref name="budget"/> for <paramref name="partition"/>
    /// and returns the count of the current period, these tokens included. A partition without a current period starts
    /// one with these tokens, lasting <paramref name="period"/>.
    /// </summary>
    /// <param name="budget">The name of the budget in <c>LlmGuardOptions.Budgets</c>.</param>
    /// <param name="partition">The scene, tenant or user the budget is counted for.</param>
    /// <param name="period">The length of the budget's period.</param>
    /// <param name="tokens">The tokens (input and output) of one or more completed executions; always positive.</param>
    /// <param name="cancellationToken">Cancelled when the runtime is disposed.</param>
    /// <returns>The tokens spent in the partition's current period over every instance.</returns>
    ValueTask<long> AddAsync(string budget, string partition, TimeSpan period, long tokens, CancellationToken cancellationToken);

    /// <summary>Returns the shared count of <paramref name="budget"/> for <paramref name="partition"/> in its current period.</summary>
    /// <param name="budget">The name of the budget in <c>LlmGuardOptions.Budgets</c>.</param>
    /// <param name="partition">The scene, tenant or user the budget is counted for.</param>
    /// <param name="cancellationToken">Cancelled when the runtime is disposed.</param>
    /// <returns>The tokens spent in the partition's current period over every instance; 0 when no period is running.</returns>
    ValueTask<long> ReadAsync(string budget, string partition, CancellationToken cancellationToken);
}
