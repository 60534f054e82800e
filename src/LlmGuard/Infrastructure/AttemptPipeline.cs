using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Execution;
using Polly;

namespace LlmGuard.Infrastructure;

/// <summary>
/// The attempts of one guarded method on one <see cref="GuardRuntime"/>: Polly's retries on transient failures around
/// a per-attempt timeout, and a bounded wait on each attempt, so that a core which ignores its cancelled token is
/// abandoned after a short grace instead of holding its callers and its key.
/// </summary>
/// <remarks>
/// The bounded wait lives in the attempt callback rather than in a pipeline strategy of its own: an attempt that
/// completes at once then costs one delegate call, where one more Polly strategy would cost a dispatch per call.
/// </remarks>
internal sealed class AttemptPipeline
{
    private readonly ResiliencePipeline _pipeline;
    private readonly GuardRuntime _runtime;

    internal AttemptPipeline(ResiliencePipeline pipeline, GuardRuntime runtime)
    {
        _pipeline = pipeline;
        _runtime = runtime;
    }

    /// <summary>Runs the attempts of one execution that produces a result.</summary>
    /// <typeparam name="TResult">The result of an attempt.</typeparam>
    /// <typeparam name="TState">The arguments <paramref name="attempt"/> needs; passed to it, never captured.</typeparam>
    /// <param name="attempt">Calls the core once; receives the attempt's token, cancelled by its timeout or when every caller left.</param>
    /// <param name="state">The execution's arguments.</param>
    /// <param name="cancellationToken">The execution's token.</param>
    /// <returns>The first successful attempt's result, or the last failure.</returns>
    public ValueTask<TResult> ExecuteAsync<TResult, TState>(Func<TState, CancellationToken, ValueTask<TResult>> attempt, TState state, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(
            static (run, attemptToken) => attemptToken.IsCancellationRequested
                ? ValueTask.FromCanceled<TResult>(attemptToken)
                : AttemptGrace.Watch(run.Attempt(run.State, attemptToken), run.Runtime, attemptToken),
            (Attempt: attempt, State: state, Runtime: _runtime),
            cancellationToken);
}
