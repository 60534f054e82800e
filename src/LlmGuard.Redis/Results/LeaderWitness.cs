namespace LlmGuard.Redis.Results;

/// <summary>
/// What one follower's call saw of the key's leaders across its looks, so that it takes only its own leader's outcome.
/// </summary>
/// <remarks>
/// A leader that could not start its execution in Redis (its first step timed out) did not delete the outcome an
/// earlier execution left, and publishes none of its own. Once it releases, that earlier outcome sits under a free lease,
/// where a follower would take it for its leader's. The follower therefore remembers the first holder it saw, and once
/// it has seen the key hold another owner's outcome, takes an outcome only from that holder or from whoever holds the
/// lease now. An outcome that appeared after a look found none stored, or after the remembered leader abandoned the key,
/// is a later execution's, never an earlier one's, and counts.
/// </remarks>
internal sealed class LeaderWitness
{
    private string? _leader;
    private bool _sawNoOutcome;

    /// <summary>Notes what one look found: the lease's holder, and whether an outcome was stored.</summary>
    /// <param name="holder">The lease id held now, or <see langword="null"/>.</param>
    /// <param name="outcomeStored">Whether the result key held anything.</param>
    public void Saw(string? holder, bool outcomeStored)
    {
        _leader ??= holder;
        _sawNoOutcome |= !outcomeStored;
    }

    /// <summary>The remembered leader abandoned the key: whoever takes it next writes the outcome to wait for.</summary>
    public void HandedOn() => _leader = null;

    /// <summary>Whether an outcome written by <paramref name="owner"/> is this follower's leader's.</summary>
    /// <param name="owner">The lease id the outcome names.</param>
    /// <param name="holder">The lease id held now, or <see langword="null"/>.</param>
    public bool Accepts(string? owner, string? holder)
    {
        if (owner is null)
        {
            return false;
        }

        if (owner == holder || owner == _leader)
        {
            return true;
        }

        // While another owner holds the lease, its own outcome is the one to wait for.
        return holder is null && (_sawNoOutcome || _leader is null);
    }
}
