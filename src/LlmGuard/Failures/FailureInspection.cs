using System;
using LlmGuard.Profiles;

namespace LlmGuard.Failures;

/// <summary>
/// Classifies the exception that ended an attempt, looking inside it: SDKs and user code wrap transport failures
/// (<c>InvalidOperationException</c> around an <c>HttpRequestException</c>, an <see cref="AggregateException"/> from
/// parallel work), and the verdict belongs to the failure that caused the wrapping.
/// </summary>
internal static class FailureInspection
{
    // Bounds the walk over InnerException and AggregateException.InnerExceptions: real chains are two or three
    // deep, and a pathological or cyclic graph must not make a failed attempt expensive.
    private const int MaxExceptionsInspected = 16;

    /// <summary>
    /// Returns the first verdict other than <see cref="FailureKind.Unknown"/>, outermost exception first; at each
    /// exception the team's classifier is asked before the built-in rules, except about a
    /// <see cref="LlmProfileUnavailableException"/>, which is always permanent.
    /// </summary>
    public static FailureClassification Classify(Exception? exception, FailureClassifier? teamClassifier, TimeProvider timeProvider)
    {
        if (exception is null)
        {
            return FailureClassification.Unknown;
        }

        int budget = MaxExceptionsInspected;
        return Visit(exception, teamClassifier, timeProvider, ref budget);
    }

    private static FailureClassification Visit(Exception exception, FailureClassifier? teamClassifier, TimeProvider timeProvider, ref int budget)
    {
        if (budget-- <= 0)
        {
            return FailureClassification.Unknown;
        }

        // LlmGuard's own verdict, before any team rule: every model of the profile has an open breaker, so no retry
        // can succeed before a break ends, and no model was called, so no breaker may count it.
        if (exception is LlmProfileUnavailableException)
        {
            return FailureClassification.Permanent;
        }

        FailureClassification verdict = teamClassifier?.Invoke(exception) ?? FailureClassification.Unknown;
        if (verdict.Kind != FailureKind.Unknown)
        {
            return verdict;
        }

        verdict = BuiltInFailureRules.Classify(exception, timeProvider);
        if (verdict.Kind != FailureKind.Unknown)
        {
            return verdict;
        }

        if (exception is AggregateException aggregate)
        {
            foreach (Exception inner in aggregate.InnerExceptions)
            {
                verdict = Visit(inner, teamClassifier, timeProvider, ref budget);
                if (verdict.Kind != FailureKind.Unknown)
                {
                    return verdict;
                }
            }

            return FailureClassification.Unknown;
        }

        return exception.InnerException is { } cause
            ? Visit(cause, teamClassifier, timeProvider, ref budget)
            : FailureClassification.Unknown;
    }
}
