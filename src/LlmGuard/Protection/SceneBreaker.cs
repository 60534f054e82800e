using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Failures;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;

namespace LlmGuard.Protection;

/// <summary>
/// The circuit breaker of one scene (Polly.Core's), apart from the scene's limits so that a reload that changes only
/// the limits keeps it, open or closed, and its failure counts.
/// </summary>
internal sealed class SceneBreaker
{
    // Set when the breaker let the execution through to its attempts: a BrokenCircuitException after that came from a
    // breaker inside the core (an HttpClient's resilience handler, say), not from this scene's.
    private static readonly ResiliencePropertyKey<bool> s_attemptsStarted = new("LlmGuard.AttemptsStarted");

    private readonly GuardRuntime _runtime;
    private readonly ILogger? _logger;
    private readonly ResiliencePipeline _pipeline;
    private int _breakerState;
    private long _openUntilUtcTicks;

    public SceneBreaker(string scene, ProtectionSettings settings, GuardRuntime runtime)
    {
        Scene = scene;
        Settings = settings.Breaker;
        _runtime = runtime;
        _logger = runtime.Telemetry.Logger;
        _pipeline = Build(settings);
    }

    /// <summary>Gets the scene whose breaker this is.</summary>
    public string Scene { get; }

    /// <summary>Gets the breaker settings it was built from; a protection whose breaker settings are equal keeps it.</summary>
    public (double FailureRatio, int MinimumThroughput, int SamplingMs, int BreakMs) Settings { get; }

    /// <summary>Gets the state: <see cref="SceneProtection.Closed"/>, <see cref="SceneProtection.HalfOpen"/> or <see cref="SceneProtection.Open"/>.</summary>
    public int State => Volatile.Read(ref _breakerState);

    /// <summary>Runs one execution's attempts through Polly's breaker, which counts their outcome or refuses them.</summary>
    public async ValueTask<TResult> ExecuteAsync<TResult, TState>(
        Func<TState, StrongBox<bool>?, CancellationToken, ValueTask<TResult>> attempts,
        TState state,
        CancellationToken executionToken)
    {
        ResilienceContext context = ResilienceContextPool.Shared.Get(executionToken);
        var failedAttempt = new StrongBox<bool>();
        context.Properties.Set(SceneProtection.FailedAttempt, failedAttempt);
        try
        {
            return await _pipeline.ExecuteAsync(
                static (breakerContext, run) =>
                {
                    breakerContext.Properties.Set(s_attemptsStarted, true);
                    return run.Attempts(run.State, run.FailedAttempt, breakerContext.CancellationToken);
                },
                context,
                (Attempts: attempts, State: state, FailedAttempt: failedAttempt)).ConfigureAwait(false);
        }
        catch (BrokenCircuitException broken) when (!context.Properties.TryGetValue(s_attemptsStarted, out _))
        {
            // Open, or half-open with its probe already running: Polly refused before the attempts started.
            throw new LlmCircuitOpenException(Scene, broken);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    // Open and not yet due for its probe, or half-open with the probe running: Polly would refuse too. Only a hint, read
    // without a lock; Polly's own state decides every execution that gets past it.
    public bool IsRefusingWithoutProbe()
    {
        int state = Volatile.Read(ref _breakerState);
        return state == SceneProtection.HalfOpen
            || (state == SceneProtection.Open && _runtime.TimeProvider.GetUtcNow().UtcTicks < Volatile.Read(ref _openUntilUtcTicks));
    }

    private ResiliencePipeline Build(ProtectionSettings settings)
    {
        var options = new CircuitBreakerStrategyOptions
        {
            Name = Scene,
            FailureRatio = settings.BreakerFailureRatio,
            MinimumThroughput = settings.BreakerMinimumThroughput,
            SamplingDuration = TimeSpan.FromMilliseconds(settings.BreakerSamplingMs),
            BreakDuration = TimeSpan.FromMilliseconds(settings.BreakerBreakMs),
            ShouldHandle = args => new ValueTask<bool>(CountsAsFailure(args.Outcome.Exception, args.Context)),
            OnOpened = args =>
            {
                Volatile.Write(ref _openUntilUtcTicks, (_runtime.TimeProvider.GetUtcNow() + args.BreakDuration).UtcTicks);
                Volatile.Write(ref _breakerState, SceneProtection.Open);
                if (_logger is not null)
                {
                    ProtectionLog.BreakerOpened(_logger, Scene, args.BreakDuration, args.Outcome.Exception);
                }

                return default;
            },
            OnHalfOpened = _ =>
            {
                Volatile.Write(ref _breakerState, SceneProtection.HalfOpen);
                if (_logger is not null)
                {
                    ProtectionLog.BreakerHalfOpened(_logger, Scene);
                }

                return default;
            },
            OnClosed = _ =>
            {
                Volatile.Write(ref _breakerState, SceneProtection.Closed);
                if (_logger is not null)
                {
                    ProtectionLog.BreakerClosed(_logger, Scene);
                }

                return default;
            },
        };

        return new ResiliencePipelineBuilder { TimeProvider = _runtime.TimeProvider }.AddCircuitBreaker(options).Build();
    }

    // What says the model is unhealthy: timeouts, transient failures (408, 429, 5xx, transport) and failures no rule
    // recognises. A permanent failure (400, 401, 403, 404, 422, content filtered) is the request's fault: the model
    // answered. Callers who all left say nothing about the model, unless an attempt had already failed (an outage
    // where callers give up before the timeout would otherwise lower the failure ratio), and a probe they abandoned
    // proved nothing, so the breaker opens again rather than close on it.
    private bool CountsAsFailure(Exception? exception, ResilienceContext context)
    {
        CancellationToken executionToken = context.CancellationToken;
        // This scene's own refusals never reach here (they are decided outside Polly's breaker or by it); a refusal that
        // did came out of the core and is classified like any failure.
        if (exception is null)
        {
            return false;
        }

        // Polly leaves a half-open breaker half-open, refusing everything, after a probe whose outcome it neither counts
        // as a failure nor records as a success: any failure of the probe, permanent or abandoned, opens it again.
        if (Volatile.Read(ref _breakerState) == SceneProtection.HalfOpen)
        {
            return true;
        }

        if (exception is OperationCanceledException && executionToken.IsCancellationRequested)
        {
            return context.Properties.TryGetValue(SceneProtection.FailedAttempt, out StrongBox<bool>? failed) && failed.Value;
        }

        return FailureInspection.Classify(exception, _runtime.FailureClassifier, _runtime.TimeProvider).Kind != FailureKind.Permanent;
    }
}
