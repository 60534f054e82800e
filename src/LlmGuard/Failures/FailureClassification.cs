using System;

namespace LlmGuard.Failures;

/// <summary>
/// The verdict on one failed attempt: whether it is worth retrying and, when the service said so, how long to
/// wait before the next attempt.
/// </summary>
public readonly struct FailureClassification : IEquatable<FailureClassification>
{
    private FailureClassification(FailureKind kind, TimeSpan? retryAfter)
    {
        Kind = kind;
        RetryAfter = retryAfter;
    }

    /// <summary>Gets the verdict that leaves the decision to the built-in rules.</summary>
    public static FailureClassification Unknown => default;

    /// <summary>Gets the verdict that ends the attempts at once.</summary>
    public static FailureClassification Permanent => new(FailureKind.Permanent, null);

    /// <summary>Gets what the failure says about the next attempt.</summary>
    public FailureKind Kind { get; }

    /// <summary>
    /// Gets the delay the service asked for before the next attempt (its <c>Retry-After</c>), or
    /// <see langword="null"/> to use the method's exponential backoff.
    /// </summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>Creates the verdict that retries the failure.</summary>
    /// <param name="retryAfter">
    /// The delay the service asked for; <see langword="null"/> for the method's backoff. A delay longer than the
    /// method's <see cref="GuardedAttribute.MaxRetryAfterMs"/> ends the attempts instead.
    /// </param>
    /// <returns>A <see cref="FailureKind.Transient"/> verdict.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="retryAfter"/> is negative.</exception>
    public static FailureClassification Transient(TimeSpan? retryAfter = null)
    {
        if (retryAfter is { } delay)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero, nameof(retryAfter));
        }

        return new FailureClassification(FailureKind.Transient, retryAfter);
    }

    /// <summary>Returns whether two verdicts are equal.</summary>
    /// <param name="left">The first verdict.</param>
    /// <param name="right">The second verdict.</param>
    /// <returns><see langword="true"/> when kind and delay are equal.</returns>
    public static bool operator ==(FailureClassification left, FailureClassification right) => left.Equals(right);

    /// <summary>Returns whether two verdicts differ.</summary>
    /// <param name="left">The first verdict.</param>
    /// <param name="right">The second verdict.</param>
    /// <returns><see langword="true"/> when kind or delay differ.</returns>
    public static bool operator !=(FailureClassification left, FailureClassification right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(FailureClassification other) => Kind == other.Kind && RetryAfter == other.RetryAfter;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is FailureClassification other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Kind, RetryAfter);

    /// <inheritdoc/>
    public override string ToString() => RetryAfter is { } delay ? $"{Kind} (retry after {delay})" : Kind.ToString();
}
