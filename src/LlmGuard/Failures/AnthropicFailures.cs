using System;
using System.Net;

namespace LlmGuard.Failures;

/// <summary>Recognises the exceptions of the official Anthropic SDK (package <c>Anthropic</c>).</summary>
/// <remarks>
/// The runtime must not depend on a model SDK, and the Anthropic SDK's status code
/// (<c>AnthropicApiException.StatusCode</c>) is a property of its own type that no base type LlmGuard can see
/// carries: its HTTP failures are not <see cref="System.Net.Http.HttpRequestException"/>s with a status. So its
/// exceptions are recognised by the full names of their types and base types (<see cref="Type.FullName"/> and
/// <see cref="Type.BaseType"/> need no reflection over members and are safe under trimming and native AOT), and the
/// status comes from the type itself (the SDK throws one type per status class) or, for the catch-all 4xx type,
/// from the first line of <see cref="Exception.Message"/>, which the SDK writes as <c>Status Code: {status}</c>.
/// The SDK exposes no response headers on its exceptions, so its <c>Retry-After</c> cannot be honoured here.
/// </remarks>
internal static class AnthropicFailures
{
    private const string Namespace = "Anthropic.Exceptions.";
    private const string StatusPrefix = "Status Code: ";

    // Deep enough for the SDK's hierarchy (…Exception → AnthropicApiException → AnthropicServiceException →
    // AnthropicException → Exception) with room for subclasses, which may live outside the SDK's namespace.
    private const int MaxTypeDepth = 8;

    public static FailureClassification Classify(Exception exception)
    {
        Type? type = exception.GetType();
        for (int depth = 0; depth < MaxTypeDepth && type is not null; depth++, type = type.BaseType)
        {
            string? name = type.FullName;
            if (name is null || !name.StartsWith(Namespace, StringComparison.Ordinal))
            {
                continue;
            }

            switch (name.AsSpan(Namespace.Length))
            {
                // 429, every 5xx including Anthropic's 529 "overloaded", and the SDK's wrapper of a transport
                // failure (connection refused or reset, a broken body).
                case "AnthropicRateLimitException" or "Anthropic5xxException" or "AnthropicIOException":
                    return FailureClassification.Transient();

                // Any other status: 400, 401, 403, 404, 422, the catch-all 4xx (transient only for 408) and
                // statuses outside 400–599.
                case "AnthropicApiException":
                    return BuiltInFailureRules.FromStatus(StatusFromMessage(exception.Message));
            }
        }

        return FailureClassification.Unknown;
    }

    private static int StatusFromMessage(string message)
    {
        if (!message.StartsWith(StatusPrefix, StringComparison.Ordinal))
        {
            return 0;
        }

        ReadOnlySpan<char> status = message.AsSpan(StatusPrefix.Length);
        int end = status.IndexOf('\n');
        if (end >= 0)
        {
            status = status[..end];
        }

        // HttpStatusCode formats as its name (RequestTimeout) when it has one, as the number otherwise (529).
        return Enum.TryParse(status.Trim(), ignoreCase: false, out HttpStatusCode code) ? (int)code : 0;
    }
}
