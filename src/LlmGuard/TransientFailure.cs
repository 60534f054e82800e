using System;
using System.IO;
using System.Net.Http;
using LlmGuard.Failures;
using Polly.Timeout;

namespace LlmGuard;

/// <summary>
/// Decides which failures of an attempt are worth another attempt, by LlmGuard's built-in rules.
/// </summary>
public static class TransientFailure
{
    /// <summary>
    /// Returns whether <paramref name="exception"/>, or an exception found inside it, is transient: an attempt
    /// timeout (<see cref="TimeoutRejectedException"/>), a <see cref="TimeoutException"/>, an <see cref="IOException"/>,
    /// an <see cref="HttpRequestException"/> without a status or with 408, 429 or 5xx, a
    /// <c>System.ClientModel.ClientResultException</c> (OpenAI, Azure SDKs) with status 0, 408, 429 or 5xx, or the
    /// Anthropic SDK's rate-limit, 5xx (529 overloaded included) and I/O exceptions. A status of 400, 401, 403, 404,
    /// 422 or any other 4xx is not transient, and ends the search.
    /// </summary>
    /// <param name="exception">The exception that ended an attempt; <see langword="null"/> is not transient.</param>
    /// <returns><see langword="true"/> when the attempt should be retried.</returns>
    /// <remarks>
    /// These are the built-in rules only. Inside a guarded call a runtime's <see cref="GuardRuntime.FailureClassifier"/>
    /// is asked before them.
    /// </remarks>
    public static bool IsTransient(Exception? exception) =>
        FailureInspection.Classify(exception, teamClassifier: null, TimeProvider.System).Kind == FailureKind.Transient;
}
