using System;
using LlmGuard.Infrastructure;

namespace LlmGuard.Tests.Failures;

public sealed class MaxRetryAfterTests
{
    [Theory]
    [InlineData(-1)]
    [InlineData(86_400_001)]
    public void A_guarded_method_refuses_a_Retry_After_cap_outside_its_range(int maxRetryAfterMs) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new GuardedMethod<string>("scene", 1000, 2, 200, maxRetryAfterMs: maxRetryAfterMs));

    [Theory]
    [InlineData(0)]
    [InlineData(86_400_000)]
    public void A_guarded_method_accepts_a_Retry_After_cap_at_the_ends_of_its_range(int maxRetryAfterMs) =>
        Assert.Equal(maxRetryAfterMs, new GuardedMethod<string>("scene", 1000, 2, 200, maxRetryAfterMs: maxRetryAfterMs).MaxRetryAfterMs);

    [Fact]
    public void A_guarded_method_caps_Retry_After_at_the_attribute_default_when_not_told() =>
        Assert.Equal(GuardedAttribute.DefaultMaxRetryAfterMs, new GuardedMethod<string>("scene", 1000, 2, 200).MaxRetryAfterMs);
}
