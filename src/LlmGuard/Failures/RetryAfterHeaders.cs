using System;
using System.ClientModel.Primitives;
using System.Globalization;

namespace LlmGuard.Failures;

/// <summary>Reads the delay a service asks for before the next request.</summary>
internal static class RetryAfterHeaders
{
    // Any delay longer than a year is past every cap (at most a day), so it is kept as "too long" rather than
    // risking TimeSpan's overflow near its limit.
    private static readonly TimeSpan MaxDelay = TimeSpan.FromDays(365);

    public static TimeSpan? Read(PipelineResponse? response, TimeProvider timeProvider)
    {
        if (response is null)
        {
            return null;
        }

        // retry-after-ms (OpenAI, Azure, Anthropic) is finer than Retry-After, so it wins when both are sent.
        if (response.Headers.TryGetValue("retry-after-ms", out string? milliseconds))
        {
            return ParseMilliseconds(milliseconds);
        }

        return response.Headers.TryGetValue("Retry-After", out string? retryAfter)
            ? ParseRetryAfter(retryAfter, timeProvider.GetUtcNow())
            : null;
    }

    public static TimeSpan? ParseMilliseconds(string? value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double ms) ? FromMilliseconds(ms) : null;

    /// <summary>Parses RFC 9110's <c>Retry-After</c>: delay-seconds, or an HTTP-date (a date already past means now).</summary>
    public static TimeSpan? ParseRetryAfter(string? value, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds))
        {
            return FromMilliseconds(seconds * 1000);
        }

        if (DateTimeOffset.TryParseExact(value.Trim(), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset date))
        {
            TimeSpan wait = date - now;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }

        return null;
    }

    private static TimeSpan? FromMilliseconds(double ms) =>
        !double.IsFinite(ms) || ms < 0 ? null
        : ms > MaxDelay.TotalMilliseconds ? MaxDelay
        : TimeSpan.FromMilliseconds(ms);
}
