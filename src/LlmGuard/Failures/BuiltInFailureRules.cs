using System;
using System.ClientModel;
using System.IO;
using System.Net;
using System.Net.Http;
using Polly.Timeout;

namespace LlmGuard.Failures;

/// <summary>
/// LlmGuard's own verdict on one exception, without looking inside it: the contract's list of transient and
/// permanent failures of HttpClient, System.ClientModel (OpenAI, Azure) and the Anthropic SDK.
/// </summary>
internal static class BuiltInFailureRules
{
    public static FailureClassification Classify(Exception exception, TimeProvider timeProvider) => exception switch
    {
        // A missing file or path is a bug or a deployment fault, not a flaky connection: the same attempt fails again.
        FileNotFoundException or DirectoryNotFoundException or PathTooLongException => FailureClassification.Permanent,
        TimeoutRejectedException or TimeoutException or IOException => FailureClassification.Transient(),
        HttpRequestException { StatusCode: null } => FailureClassification.Transient(),

        // HttpRequestException carries no response headers, so a Retry-After behind it cannot be honoured.
        HttpRequestException { StatusCode: { } status } => FromStatus((int)status),

        // Status 0: no response arrived (connection refused or reset, DNS); the transport failure is the inner exception.
        ClientResultException { Status: 0 } => FailureClassification.Transient(),
        ClientResultException client => IsTransientStatus(client.Status)
            ? FailureClassification.Transient(RetryAfterHeaders.Read(client.GetRawResponse(), timeProvider))
            : FailureClassification.Permanent,
        _ => AnthropicFailures.Classify(exception),
    };

    public static FailureClassification FromStatus(int status) =>
        IsTransientStatus(status) ? FailureClassification.Transient() : FailureClassification.Permanent;

    private static bool IsTransientStatus(int status) =>
        status is (int)HttpStatusCode.RequestTimeout or (int)HttpStatusCode.TooManyRequests || status >= 500;
}
