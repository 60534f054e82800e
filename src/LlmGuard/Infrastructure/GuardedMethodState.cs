using System;
using LlmGuard.Failures;
using Polly;

namespace LlmGuard.Infrastructure;

internal interface IGuardedMethodState
{
    int InFlightCount { get; }
}

/// <summary>
/// What one guarded method has on one <see cref="GuardRuntime"/>: the executions in flight and the resilience
/// pipeline, built once from the attribute's constants.
/// </summary>
/// <typeparam name="TResult">The result the guarded method produces.</typeparam>
public sealed class GuardedMethodState<TResult> : IGuardedMethodState
{
    private readonly MergeWindow<TResult>? _merges;

    internal GuardedMethodState(GuardedMethod<TResult> method, GuardRuntime runtime)
    {
        Runtime = runtime;
        Pipeline = BuildPipeline(method, runtime);
        if (method.MergeWindowMs > 0)
        {
            _merges = new MergeWindow<TResult>(runtime.TimeProvider, method.MergeWindowMs, method.MergeMode, method.MergeMaxWaitMs, method.Supersede);
        }
    }

    /// <summary>Gets the runtime this state belongs to.</summary>
    public GuardRuntime Runtime { get; }

    /// <summary>Gets the executions in flight, by key.</summary>
    public SingleFlight<TResult> Flights { get; } = new();

    /// <summary>Gets the merge windows, by key.</summary>
    /// <exception cref="InvalidOperationException">The method has no merge window.</exception>
    public MergeWindow<TResult> Merges => _merges ?? throw new InvalidOperationException("This guarded method has no merge window (MergeWindowMs is 0).");

    /// <summary>
    /// Gets the attempts pipeline: retries on transient failures around a per-attempt timeout, and a bounded wait
    /// for a core that ignores its cancelled token.
    /// </summary>
    public AttemptPipeline Pipeline { get; }

    int IGuardedMethodState.InFlightCount => Flights.Count + (_merges?.Count ?? 0);

    private static AttemptPipeline BuildPipeline(GuardedMethod<TResult> method, GuardRuntime runtime)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = runtime.TimeProvider };
        if (method.MaxRetries > 0)
        {
            builder.AddRetry(AttemptRetries.Create(method.MaxRetries, method.RetryDelayMs, method.MaxRetryAfterMs, runtime));
        }

        // Added after the retry, so it is inside it: the timeout applies to each attempt, not to all of them.
        if (method.TimeoutMs > 0)
        {
            builder.AddTimeout(TimeSpan.FromMilliseconds(method.TimeoutMs));
        }

        return new AttemptPipeline(builder.Build(), runtime);
    }
}
