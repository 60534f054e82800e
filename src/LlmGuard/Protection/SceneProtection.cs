using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.RateLimiting;
using System.Threading.Tasks;
using LlmGuard.Failures;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;

namespace LlmGuard.Protection;

/// <summary>
/// The protection of one scene on one <see cref="GuardRuntime"/>, shared by every guarded method of the scene: a rate
/// limit, a concurrency limit with a bounded queue, and Polly's circuit breaker, in that order around each execution's
/// attempts. The runtime keeps one per scene and builds a new one only when a reload changes its settings, so the
/// breaker's state and the permits in use survive reloads of other settings.
/// </summary>
/// <remarks>
/// The limits are outside the breaker so that executions they refuse never count in its failure ratio: a shedding
/// burst would otherwise count as thousands of successes and keep an outage from opening it. An open breaker is still
/// checked first, from a field its callbacks keep, so the executions it refuses take no permit.
/// </remarks>
internal sealed class SceneProtection : IDisposable
{
    /// <summary>The breaker's state as the <c>llmguard.breaker.state</c> gauge reports it.</summary>
    public const int Closed = 0;

    /// <inheritdoc cref="Closed"/>
    public const int HalfOpen = 1;

    /// <inheritdoc cref="Closed"/>
    public const int Open = 2;

    // A burst of shedding writes one warning per interval per scene, with the number refused since the last one; each
    // refusal is also written at Debug, off in production, for whoever needs them one by one.
    private static readonly TimeSpan s_limitLogInterval = TimeSpan.FromSeconds(10);

    // Set when the breaker let the execution through to its attempts: a BrokenCircuitException after that came from a
    // breaker inside the core (an HttpClient's resilience handler, say), not from this scene's.
    private static readonly ResiliencePropertyKey<bool> s_attemptsStarted = new("LlmGuard.AttemptsStarted");

    /// <summary>
    /// Where an execution's attempts note that one of them failed (the retry strategy sets it): an execution its callers
    /// leave after that is a failure for the breaker, since the model had already failed it.
    /// </summary>
    internal static readonly ResiliencePropertyKey<StrongBox<bool>> FailedAttempt = new("LlmGuard.FailedAttempt");

    private readonly GuardRuntime _runtime;
    private readonly ILogger? _logger;
    private readonly ResiliencePipeline? _breaker;
    private readonly RateLimiter? _rate;
    private readonly PartitionedRateLimiter<string>? _tenantRate;
    private readonly RateLimiter? _concurrency;
    private readonly PartitionedRateLimiter<string>? _tenantConcurrency;
    private int _breakerState;
    private long _openUntilUtcTicks;
    private long _shedSinceLog;
    private long _lastLimitLog = long.MinValue;

    public SceneProtection(string scene, ProtectionSettings settings, GuardRuntime runtime)
    {
        Scene = scene;
        Settings = settings;
        _runtime = runtime;
        _logger = runtime.Telemetry.Logger;
        if (settings.HasBreaker)
        {
            _breaker = BuildBreaker(settings);
        }

        if (settings.RateLimit > 0)
        {
            var options = new FixedWindowRateLimiterOptions
            {
                PermitLimit = settings.RateLimit,
                Window = TimeSpan.FromMilliseconds(settings.RateLimitWindowMs),
                QueueLimit = 0,
                AutoReplenishment = true,
            };
            if (settings.LimitPerTenant)
            {
                _tenantRate = PartitionedRateLimiter.Create<string, string>(tenant => RateLimitPartition.GetFixedWindowLimiter(tenant, _ => options));
            }
            else
            {
                _rate = new FixedWindowRateLimiter(options);
            }
        }

        if (settings.MaxConcurrency > 0)
        {
            // Oldest first: past the queue's bound the newest execution is refused at once, and the ones waiting keep their place.
            var options = new ConcurrencyLimiterOptions
            {
                PermitLimit = settings.MaxConcurrency,
                QueueLimit = settings.MaxQueue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            };
            if (settings.LimitPerTenant)
            {
                _tenantConcurrency = PartitionedRateLimiter.Create<string, string>(tenant => RateLimitPartition.GetConcurrencyLimiter(tenant, _ => options));
            }
            else
            {
                _concurrency = new ConcurrencyLimiter(options);
            }
        }
    }

    /// <summary>Gets the scene, the <c>llmguard.scene</c> of the breaker's gauge.</summary>
    public string Scene { get; }

    /// <summary>Gets the settings this protection was built from.</summary>
    public ProtectionSettings Settings { get; }

    /// <summary>Gets the breaker's state (<see cref="Closed"/>, <see cref="HalfOpen"/> or <see cref="Open"/>); <see langword="null"/> without a breaker.</summary>
    public int? BreakerState => _breaker is null ? null : Volatile.Read(ref _breakerState);

    /// <summary>
    /// Runs one execution's attempts under the scene's limits and breaker, or refuses it before they start with a
    /// <see cref="LlmCallRejectedException"/>.
    /// </summary>
    /// <typeparam name="TResult">The result of the execution.</typeparam>
    /// <typeparam name="TState">What <paramref name="attempts"/> needs; passed to it, never captured.</typeparam>
    /// <param name="attempts">Runs the attempts pipeline; with a breaker, it is given where to note a failed attempt.</param>
    /// <param name="state">The execution's call.</param>
    /// <param name="executionToken">The execution's token, cancelled when every caller left; it also ends a wait in the queue.</param>
    /// <returns>The attempts' result.</returns>
    public async ValueTask<TResult> ExecuteAsync<TResult, TState>(
        Func<TState, StrongBox<bool>?, CancellationToken, ValueTask<TResult>> attempts,
        TState state,
        CancellationToken executionToken)
    {
        if (_breaker is not null && IsRefusingWithoutProbe())
        {
            throw new LlmCircuitOpenException(Scene);
        }

        // Read in the execution's flow, which is the flow of the caller that started it.
        string? tenant = Settings.LimitPerTenant ? LlmCallContext.Current?.Tenant ?? string.Empty : null;
        if (_rate is not null || _tenantRate is not null)
        {
            // A fixed window gives nothing back on release; the lease is disposed only to follow the API's contract.
            using RateLimitLease lease = tenant is null ? _rate!.AttemptAcquire() : _tenantRate!.AttemptAcquire(tenant);
            if (!lease.IsAcquired)
            {
                throw Shed(LlmLimitExceededException.Rate);
            }
        }

        RateLimitLease? permit = null;
        try
        {
            if (_concurrency is not null || _tenantConcurrency is not null)
            {
                permit = tenant is null
                    ? await _concurrency!.AcquireAsync(1, executionToken).ConfigureAwait(false)
                    : await _tenantConcurrency!.AcquireAsync(tenant, 1, executionToken).ConfigureAwait(false);
                if (!permit.IsAcquired)
                {
                    throw Shed(LlmLimitExceededException.Concurrency);
                }
            }

            return _breaker is null
                ? await attempts(state, null, executionToken).ConfigureAwait(false)
                : await ThroughBreakerAsync(attempts, state, executionToken).ConfigureAwait(false);
        }
        finally
        {
            permit?.Dispose();
        }
    }

    public void Dispose()
    {
        _rate?.Dispose();
        _tenantRate?.Dispose();
        _concurrency?.Dispose();
        _tenantConcurrency?.Dispose();
    }

    private async ValueTask<TResult> ThroughBreakerAsync<TResult, TState>(
        Func<TState, StrongBox<bool>?, CancellationToken, ValueTask<TResult>> attempts,
        TState state,
        CancellationToken executionToken)
    {
        ResilienceContext context = ResilienceContextPool.Shared.Get(executionToken);
        var failedAttempt = new StrongBox<bool>();
        context.Properties.Set(FailedAttempt, failedAttempt);
        try
        {
            return await _breaker!.ExecuteAsync(
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
    private bool IsRefusingWithoutProbe()
    {
        int state = Volatile.Read(ref _breakerState);
        return state == HalfOpen
            || (state == Open && _runtime.TimeProvider.GetUtcNow().UtcTicks < Volatile.Read(ref _openUntilUtcTicks));
    }

    private ResiliencePipeline BuildBreaker(ProtectionSettings settings)
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
                Volatile.Write(ref _breakerState, Open);
                if (_logger is not null)
                {
                    ProtectionLog.BreakerOpened(_logger, Scene, args.BreakDuration, args.Outcome.Exception);
                }

                return default;
            },
            OnHalfOpened = _ =>
            {
                Volatile.Write(ref _breakerState, HalfOpen);
                if (_logger is not null)
                {
                    ProtectionLog.BreakerHalfOpened(_logger, Scene);
                }

                return default;
            },
            OnClosed = _ =>
            {
                Volatile.Write(ref _breakerState, Closed);
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

        if (exception is OperationCanceledException && executionToken.IsCancellationRequested)
        {
            return Volatile.Read(ref _breakerState) == HalfOpen
                || (context.Properties.TryGetValue(FailedAttempt, out StrongBox<bool>? failed) && failed.Value);
        }

        return FailureInspection.Classify(exception, _runtime.FailureClassifier, _runtime.TimeProvider).Kind != FailureKind.Permanent;
    }

    private LlmLimitExceededException Shed(string limit)
    {
        Interlocked.Increment(ref _shedSinceLog);
        if (_logger is { } logger)
        {
            ProtectionLog.ExecutionShed(logger, Scene, limit);
            TimeProvider clock = _runtime.TimeProvider;
            long now = clock.GetTimestamp();
            long last = Volatile.Read(ref _lastLimitLog);
            if ((last == long.MinValue || clock.GetElapsedTime(last, now) >= s_limitLogInterval)
                && Interlocked.CompareExchange(ref _lastLimitLog, now, last) == last)
            {
                ProtectionLog.LimitReached(logger, Scene, limit, Interlocked.Exchange(ref _shedSinceLog, 0));
            }
        }

        return new LlmLimitExceededException(Scene, limit);
    }
}
