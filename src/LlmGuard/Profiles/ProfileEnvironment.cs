using System;
using System.Diagnostics.Metrics;
using LlmGuard.Failures;
using Microsoft.Extensions.Logging;

namespace LlmGuard.Profiles;

/// <summary>The services every profile of a container shares: its clock, failure rule, logger and request counter.</summary>
internal sealed class ProfileEnvironment(TimeProvider timeProvider, FailureClassifier? failureClassifier, ILogger? logger, Counter<long>? requests)
{
    public TimeProvider TimeProvider { get; } = timeProvider;

    public FailureClassifier? FailureClassifier { get; } = failureClassifier;

    public ILogger? Logger { get; } = logger;

    /// <summary>Gets <c>llmguard.profile.requests</c>, or <see langword="null"/> when no runtime's meter is at hand.</summary>
    public Counter<long>? Requests { get; } = requests;
}
