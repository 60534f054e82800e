using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using Polly.Timeout;

namespace LlmGuard;

/// <summary>
/// Decides which failures of an attempt are worth another attempt. The one place that classification lives.
/// </summary>
public static class TransientFailure
{
    /// <summary>
    /// Returns whether <paramref name="exception"/> is transient: an attempt timeout, a <see cref="TimeoutException"/>
    /// (also when <see cref="HttpClient"/> reports its own timeout as a cancellation wrapping one), an
    /// <see cref="HttpRequestException"/> without a status or with 408, 429 or 5xx, or an <see cref="IOException"/>.
    /// </summary>
    /// <param name="exception">The exception that ended an attempt; <see langword="null"/> is not transient.</param>
    /// <returns><see langword="true"/> when the attempt should be retried.</returns>
    public static bool IsTransient(Exception? exception) => exception switch
    {
        TimeoutRejectedException or TimeoutException or IOException => true,
        TaskCanceledException { InnerException: TimeoutException } => true,
        HttpRequestException { StatusCode: null } => true,
        HttpRequestException { StatusCode: { } status } => IsTransientStatus(status),
        _ => false,
    };

    private static bool IsTransientStatus(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;
}
