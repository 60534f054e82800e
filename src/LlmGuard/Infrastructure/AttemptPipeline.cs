using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Execution;
using LlmGuard.Failures;
using LlmGuard.Protection;
using LlmGuard.Telemetry;
using Polly;
using Polly.Timeout;

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
    private readonly string _scene;
    private readonly bool _retries;

    internal AttemptPipeline(ResiliencePipeline pipeline, GuardRuntime runtime, string scene, bool retries)
    {
        _pipeline = pipeline;
        _runtime = runtime;
        _scene = scene;
        _retries = retries;
    }

    /// <summary>Gets the clock the attempts are measured on.</summary>
    public TimeProvider TimeProvider => _runtime.TimeProvider;

    /// <summary>Runs the attempts of one execution that produces a result.</summary>
    /// <typeparam name="TResult">The result of an attempt.</typeparam>
    /// <typeparam name="TState">The arguments <paramref name="attempt"/> needs; passed to it, never captured.</typeparam>
    /// <param name="attempt">Calls the core once; receives the attempt's token, cancelled by its timeout or when every caller left.</param>
    /// <param name="state">The execution's arguments.</param>
    /// <param name="cancellationToken">The execution's token.</param>
    /// <returns>The first successful attempt's result, or the last failure.</returns>
    public ValueTask<TResult> ExecuteAsync<TResult, TState>(Func<TState, CancellationToken, ValueTask<TResult>> attempt, TState state, CancellationToken cancellationToken) =>
        ExecuteAsync(attempt, state, failedAttempt: null, cancellationToken);

    /// <summary>Runs the attempts of one execution that produces a result, under its scene's breaker when it has one.</summary>
    /// <typeparam name="TResult">The result of an attempt.</typeparam>
    /// <typeparam name="TState">The arguments <paramref name="attempt"/> needs; passed to it, never captured.</typeparam>
    /// <param name="attempt">Calls the core once; receives the attempt's token, cancelled by its timeout or when every caller left.</param>
    /// <param name="state">The execution's arguments.</param>
    /// <param name="failedAttempt">Where the retry notes a failed attempt for the scene's breaker; <see langword="null"/> without one.</param>
    /// <param name="cancellationToken">The execution's token.</param>
    /// <returns>The first successful attempt's result, or the last failure.</returns>
    public ValueTask<TResult> ExecuteAsync<TResult, TState>(Func<TState, CancellationToken, ValueTask<TResult>> attempt, TState state, StrongBox<bool>? failedAttempt, CancellationToken cancellationToken) =>
        failedAttempt is null ? _pipeline.ExecuteAsync(
            static (run, attemptToken) => attemptToken.IsCancellationRequested
                ? ValueTask.FromCanceled<TResult>(attemptToken)
                : AttemptGrace.Watch(run.Attempt(run.State, attemptToken), run.Runtime, attemptToken),
            (Attempt: attempt, State: state, Runtime: _runtime),
            cancellationToken)
        : ExecuteNotingFailuresAsync(attempt, state, failedAttempt, cancellationToken);

    // Under a breaker the retry strategy notes a failed attempt in the context, for the breaker to read if every
    // caller leaves afterwards; that needs a context of our own.
    private async ValueTask<TResult> ExecuteNotingFailuresAsync<TResult, TState>(
        Func<TState, CancellationToken, ValueTask<TResult>> attempt,
        TState state,
        StrongBox<bool> failedAttempt,
        CancellationToken cancellationToken)
    {
        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(SceneProtection.FailedAttempt, failedAttempt);
        try
        {
            return await _pipeline.ExecuteAsync(
                static (attemptContext, run) => attemptContext.CancellationToken.IsCancellationRequested
                    ? ValueTask.FromCanceled<TResult>(attemptContext.CancellationToken)
                    : AttemptGrace.Watch(run.Attempt(run.State, attemptContext.CancellationToken), run.Runtime, attemptContext.CancellationToken),
                context,
                (Attempt: attempt, State: state, Runtime: _runtime)).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// Runs the attempts of one execution that something observes: each attempt gets an activity when traces are
    /// listened to, and is counted and logged with the execution's key hash.
    /// </summary>
    /// <typeparam name="TResult">The result of an attempt.</typeparam>
    /// <typeparam name="TState">The arguments <paramref name="attempt"/> needs; passed to it, never captured.</typeparam>
    /// <param name="attempt">Calls the core once; receives the attempt's token.</param>
    /// <param name="state">The execution's arguments.</param>
    /// <param name="observation">The execution's report, key and telemetry, which the retry's callbacks read from Polly's context.</param>
    /// <param name="failedAttempt">Where the retry notes a failed attempt for the scene's breaker; <see langword="null"/> without one.</param>
    /// <param name="cancellationToken">The execution's token.</param>
    /// <returns>The first successful attempt's result, or the last failure.</returns>
    public async ValueTask<TResult> ExecuteAsync<TResult, TState>(
        Func<TState, CancellationToken, ValueTask<TResult>> attempt,
        TState state,
        ExecutionObservation observation,
        StrongBox<bool>? failedAttempt,
        CancellationToken cancellationToken)
    {
        ResilienceContext context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(ExecutionObservation.Key, observation);
        if (failedAttempt is not null)
        {
            context.Properties.Set(SceneProtection.FailedAttempt, failedAttempt);
        }

        try
        {
            TResult result = await _pipeline.ExecuteAsync(
                static (attemptContext, run) => attemptContext.CancellationToken.IsCancellationRequested
                    ? ValueTask.FromCanceled<TResult>(attemptContext.CancellationToken)
                    : GuardTelemetry.ActivitySource.HasListeners()
                        ? TracedAttemptAsync(run.Self, run.Attempt, run.State, run.Observation, attemptContext.CancellationToken)
                        : AttemptGrace.Watch(run.Attempt(run.State, attemptContext.CancellationToken), run.Self._runtime, attemptContext.CancellationToken),
                context,
                (Self: this, Attempt: attempt, State: state, Observation: observation)).ConfigureAwait(false);
            if (!_retries)
            {
                observation.Telemetry.RecordAttempt(_scene, AttemptResults.Success);
            }

            return result;
        }
        catch (Exception exception) when (!_retries && !cancellationToken.IsCancellationRequested)
        {
            // Without retries no retry strategy classified the failure: this is its one classification.
            FailureClassification verdict = exception is TimeoutRejectedException
                ? FailureClassification.Transient()
                : FailureInspection.Classify(exception, _runtime.FailureClassifier, _runtime.TimeProvider);
            AttemptTelemetry.Record(observation.Telemetry, _scene, exception, verdict, attemptNumber: 1, context);
            throw;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private static async ValueTask<TResult> TracedAttemptAsync<TResult, TState>(
        AttemptPipeline self,
        Func<TState, CancellationToken, ValueTask<TResult>> attempt,
        TState state,
        ExecutionObservation observation,
        CancellationToken attemptToken)
    {
        // Attempts of one execution run one after another, so the count needs no interlock.
        using Activity? activity = GuardTelemetry.StartAttempt(self._scene, ++observation.Attempts);
        try
        {
            return await AttemptGrace.Watch(attempt(state, attemptToken), self._runtime, attemptToken).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            activity?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
            throw;
        }
    }
}
