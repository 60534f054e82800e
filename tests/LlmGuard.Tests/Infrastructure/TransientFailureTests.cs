using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Threading.Tasks;
using LlmGuard.Infrastructure;
using Polly.Timeout;

namespace LlmGuard.Tests.Infrastructure;

public sealed class TransientFailureTests
{
    public static TheoryData<Exception, bool> Failures => new()
    {
        { new TimeoutRejectedException(), true },
        { new TimeoutException(), true },
        { new TaskCanceledException("HttpClient.Timeout", new TimeoutException()), true },
        { new IOException("reset"), true },
        { new HttpRequestException("no connection"), true },
        { new HttpRequestException("timeout", null, HttpStatusCode.RequestTimeout), true },
        { new HttpRequestException("slow down", null, HttpStatusCode.TooManyRequests), true },
        { new HttpRequestException("outage", null, HttpStatusCode.ServiceUnavailable), true },
        { new HttpRequestException("bug", null, HttpStatusCode.InternalServerError), true },
        { new HttpRequestException("bad prompt", null, HttpStatusCode.BadRequest), false },
        { new HttpRequestException("no key", null, HttpStatusCode.Unauthorized), false },
        { new TaskCanceledException(), false },
        { new OperationCanceledException(), false },
        { new InvalidOperationException(), false },
        { new ArgumentException(), false },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Classifies_failures_as_the_contract_lists_them(Exception failure, bool transient) =>
        Assert.Equal(transient, TransientFailure.IsTransient(failure));

    [Theory]
    [InlineData(9, 2, 200)]
    [InlineData(86_400_001, 2, 200)]
    [InlineData(1000, -1, 200)]
    [InlineData(1000, 101, 200)]
    [InlineData(1000, 2, -1)]
    [InlineData(1000, 2, 86_400_001)]
    public void A_guarded_method_refuses_numbers_outside_their_ranges(int timeoutMs, int maxRetries, int retryDelayMs) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new GuardedMethod<string>("scene", timeoutMs, maxRetries, retryDelayMs));

    [Fact]
    public void A_guarded_method_accepts_no_timeout_and_no_retries() =>
        Assert.Equal(0, new GuardedMethod<string>("scene", 0, 0, 0).TimeoutMs);
}
