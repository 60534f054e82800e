using System;
using LlmGuard.Failures;

namespace LlmGuard.Tests.Failures;

public sealed class RetryAfterHeadersTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("0", 0)]
    [InlineData("2", 2_000)]
    [InlineData("1.5", 1_500)]
    [InlineData(" 3 ", 3_000)]
    [InlineData("Sun, 01 Mar 2026 12:00:10 GMT", 10_000)]
    [InlineData("Sun, 01 Mar 2026 11:59:00 GMT", 0)]
    public void Retry_After_in_seconds_or_as_an_HTTP_date_is_a_delay(string header, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), RetryAfterHeaders.ParseRetryAfter(header, Now));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("soon")]
    [InlineData("1e400")]
    public void Retry_After_that_is_not_a_delay_is_ignored(string? header) =>
        Assert.Null(RetryAfterHeaders.ParseRetryAfter(header, Now));

    [Theory]
    [InlineData("99999999999999999999")]
    [InlineData("Fri, 01 Mar 2047 12:00:00 GMT")]
    public void A_Retry_After_of_years_stays_longer_than_the_largest_cap_of_a_day(string header) =>
        Assert.True(RetryAfterHeaders.ParseRetryAfter(header, Now) > TimeSpan.FromDays(1));

    [Theory]
    [InlineData("0", 0)]
    [InlineData("250", 250)]
    [InlineData("12.5", 12.5)]
    public void Retry_after_ms_is_a_delay_in_milliseconds(string header, double expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), RetryAfterHeaders.ParseMilliseconds(header));

    [Theory]
    [InlineData(null)]
    [InlineData("-5")]
    [InlineData("later")]
    [InlineData("NaN")]
    public void Retry_after_ms_that_is_not_a_delay_is_ignored(string? header) =>
        Assert.Null(RetryAfterHeaders.ParseMilliseconds(header));
}
