using System;
using LlmGuard.Failures;
using LlmGuard.Infrastructure;
using LlmGuard.Telemetry;
using Polly;

namespace LlmGuard.Execution;

/// <summary>
/// What the calls of one guarded method start under: its settings, and the attempts pipeline and merge windows built
/// from them. A call reads the policy once, when it starts, and keeps it to its end.
/// </summary>
internal sealed class MethodPolicy<TResult>
{
    private MethodPolicy(GuardedMethod<TResult> method, GuardRuntime runtime)
    {
        Scene = method.Scene;
        Telemetry = runtime.Telemetry;
        ExecutionActivityName = "llmguard.execution " + method.Scene;
        Method = method;
        Runtime = runtime;
        Pipeline = BuildPipeline(method, runtime);
        if (method.MergeWindowMs > 0)
        {
            Merges = new MergeWindow<TResult>(runtime.TimeProvider, method.MergeWindowMs, method.MergeMode, method.MergeMaxWaitMs, method.Supersede);
        }
    }

    /// <summary>Gets the scene of the method, the <c>llmguard.scene</c> of its telemetry.</summary>
    public string Scene { get; }

    /// <summary>Gets the runtime's telemetry, which the method's calls, executions and attempts report to.</summary>
    public GuardTelemetry Telemetry { get; }

    /// <summary>Gets the name of the activity of each execution, built once rather than per execution.</summary>
    public string ExecutionActivityName { get; }

    /// <summary>
    /// Gets the attempts pipeline: retries on transient failures around a per-attempt timeout, and a bounded wait for
    /// a core that ignores its cancelled token.
    /// </summary>
    public AttemptPipeline Pipeline { get; }

    /// <summary>Gets the merge windows, by key; <see langword="null"/> when the method merges no calls.</summary>
    public MergeWindow<TResult>? Merges { get; }

    /// <summary>Gets the guarded method: its scene and the reader of its results' token usage.</summary>
    public GuardedMethod<TResult> Method { get; }

    /// <summary>Gets the runtime the method's calls run on.</summary>
    public GuardRuntime Runtime { get; }

    public static MethodPolicy<TResult> Create(GuardedMethod<TResult> method, GuardRuntime runtime) => new(method, runtime);

    private static AttemptPipeline BuildPipeline(GuardedMethod<TResult> method, GuardRuntime runtime)
    {
        var builder = new ResiliencePipelineBuilder { TimeProvider = runtime.TimeProvider };
        if (method.MaxRetries > 0)
        {
            builder.AddRetry(AttemptRetries.Create(method.Scene, method.MaxRetries, method.RetryDelayMs, method.MaxRetryAfterMs, runtime));
        }

        // Added after the retry, so it is inside it: the timeout applies to each attempt, not to all of them.
        if (method.TimeoutMs > 0)
        {
            builder.AddTimeout(TimeSpan.FromMilliseconds(method.TimeoutMs));
        }

        return new AttemptPipeline(builder.Build(), runtime, method.Scene, retries: method.MaxRetries > 0);
    }
}
