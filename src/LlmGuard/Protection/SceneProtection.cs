using System;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.RateLimiting;
using System.Threading.Tasks;
using Microsoft.Extensions.Logging;
using Polly;

namespace LlmGuard.Protection;

/// <summary>
/// The protection of one scene on one <see cref="GuardRuntime"/>, shared by every guarded method of the scene: rate
/// limits (the tenant's, then the scene's), concurrency limits (the tenant's, then the scene's with its bounded queue),
/// and Polly's circuit breaker, in that order around each execution's attempts. The runtime keeps one per scene and builds a new one only when a reload changes its settings, so the
/// breaker's state and the permits in use survive reloads of other settings; a new one for changed limits keeps the
/// breaker when its own settings did not change.
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

    // The value of the in-flight count once a retired protection disposed its limiters.
    private const int Disposed = -1;

    // A burst of shedding writes one warning per interval per scene, with the number refused since the last one; each
    // refusal is also written at Debug, off in production, for whoever needs them one by one.
    private static readonly TimeSpan s_limitLogInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Where an execution's attempts note that one of them failed (the retry strategy sets it): an execution its callers
    /// leave after that is a failure for the breaker, since the model had already failed it.
    /// </summary>
    internal static readonly ResiliencePropertyKey<StrongBox<bool>> FailedAttempt = new("LlmGuard.FailedAttempt");

    private readonly GuardRuntime _runtime;
    private readonly ILogger? _logger;
    private readonly SceneBreaker? _breaker;
    private readonly FixedWindowRate? _rate;
    private readonly FixedWindowRate? _tenantRate;
    private readonly RateLimiter? _concurrency;
    private readonly PartitionedRateLimiter<string>? _tenantConcurrency;
    private int _inFlight;
    private bool _retired;
    private long _shedSinceLog;
    private long _lastLimitLog = long.MinValue;

    /// <summary>Builds the protection of <paramref name="scene"/>.</summary>
    /// <param name="scene">The scene.</param>
    /// <param name="settings">Its settings.</param>
    /// <param name="runtime">The runtime it belongs to.</param>
    /// <param name="breaker">The breaker of the protection this one replaces, kept when its settings did not change.</param>
    public SceneProtection(string scene, ProtectionSettings settings, GuardRuntime runtime, SceneBreaker? breaker = null)
    {
        Scene = scene;
        Settings = settings;
        _runtime = runtime;
        _logger = runtime.Telemetry.Logger;
        if (settings.HasBreaker)
        {
            _breaker = breaker ?? new SceneBreaker(scene, settings, runtime);
        }

        // The scene's bounds hold for the whole scene whatever the tenants; a tenant's bounds come in addition, so many
        // tenants together never queue or start more than the scene allows.
        TimeSpan window = TimeSpan.FromMilliseconds(settings.RateLimitWindowMs);
        if (settings.RateLimit > 0)
        {
            _rate = new FixedWindowRate(settings.RateLimit, window, runtime.TimeProvider, perTenant: false);
        }

        if (settings.TenantRateLimit > 0)
        {
            _tenantRate = new FixedWindowRate(settings.TenantRateLimit, window, runtime.TimeProvider, perTenant: true);
        }

        if (settings.MaxConcurrency > 0)
        {
            // Oldest first: past the queue's bound the newest execution is refused at once, and the ones waiting keep their place.
            _concurrency = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
            {
                PermitLimit = settings.MaxConcurrency,
                QueueLimit = settings.MaxQueue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            });
        }

        if (settings.TenantMaxConcurrency > 0)
        {
            // No queue of its own: a tenant's permit covers its execution while it waits in the scene's queue too.
            var tenantOptions = new ConcurrencyLimiterOptions { PermitLimit = settings.TenantMaxConcurrency, QueueLimit = 0 };
            _tenantConcurrency = PartitionedRateLimiter.Create<string, string>(tenant => RateLimitPartition.GetConcurrencyLimiter(tenant, _ => tenantOptions));
        }
    }

    /// <summary>Gets the scene, the <c>llmguard.scene</c> of the breaker's gauge.</summary>
    public string Scene { get; }

    /// <summary>Gets the settings this protection was built from.</summary>
    public ProtectionSettings Settings { get; }

    /// <summary>Gets the breaker's state (<see cref="Closed"/>, <see cref="HalfOpen"/> or <see cref="Open"/>); <see langword="null"/> without a breaker.</summary>
    public int? BreakerState => _breaker?.State;

    /// <summary>Gets how many executions wait in the queue for a concurrency permit.</summary>
    public long QueuedCount => _concurrency?.GetStatistics()?.CurrentQueuedCount ?? 0;

    /// <summary>Gets the breaker, which a protection built for changed limits keeps; <see langword="null"/> without one.</summary>
    public SceneBreaker? Breaker => _breaker;

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
        if (!TryEnter())
        {
            // Retired by a reload and already idle, its limiters disposed: an execution that started under the policy
            // of before the reload runs under the breaker alone, which the scene's current protection shares.
            return await ThroughBreakerAsync(attempts, state, executionToken).ConfigureAwait(false);
        }

        try
        {
            return await UnderLimitsAsync(attempts, state, executionToken).ConfigureAwait(false);
        }
        finally
        {
            if (Interlocked.Decrement(ref _inFlight) == 0 && Volatile.Read(ref _retired))
            {
                DisposeWhenIdle();
            }
        }
    }

    /// <summary>
    /// Marks this protection replaced by a reload: its limiters are disposed as soon as no execution runs under them
    /// (at once when none does), so that the protections a long-running process replaces do not pile up.
    /// </summary>
    public void Retire()
    {
        Volatile.Write(ref _retired, true);
        DisposeWhenIdle();
    }

    /// <summary>Gets whether the limiters were disposed: retired, and no execution runs under them any more.</summary>
    public bool IsDisposed => Volatile.Read(ref _inFlight) == Disposed;

    // The count of executions in flight, or Disposed once it reached zero after Retire: an execution enters only while
    // the count is not Disposed, so none can reach a disposed limiter.
    private bool TryEnter()
    {
        int inFlight = Volatile.Read(ref _inFlight);
        while (inFlight != Disposed)
        {
            int seen = Interlocked.CompareExchange(ref _inFlight, inFlight + 1, inFlight);
            if (seen == inFlight)
            {
                return true;
            }

            inFlight = seen;
        }

        return false;
    }

    private void DisposeWhenIdle()
    {
        if (Interlocked.CompareExchange(ref _inFlight, Disposed, 0) == 0)
        {
            Dispose();
        }
    }

    private ValueTask<TResult> ThroughBreakerAsync<TResult, TState>(
        Func<TState, StrongBox<bool>?, CancellationToken, ValueTask<TResult>> attempts,
        TState state,
        CancellationToken executionToken) =>
        _breaker is null ? attempts(state, null, executionToken) : _breaker.ExecuteAsync(attempts, state, executionToken);

    private async ValueTask<TResult> UnderLimitsAsync<TResult, TState>(
        Func<TState, StrongBox<bool>?, CancellationToken, ValueTask<TResult>> attempts,
        TState state,
        CancellationToken executionToken)
    {
        if (_breaker is not null && _breaker.IsRefusingWithoutProbe())
        {
            throw new LlmCircuitOpenException(Scene);
        }

        // Read in the execution's flow, which is the flow of the caller that started it. The tenant's permit first: a
        // tenant past its own bound must not use up the scene's.
        string tenant = Settings.LimitsTenants ? LlmCallContext.Current?.Tenant ?? string.Empty : string.Empty;
        if (_tenantRate is not null && !_tenantRate.TryTake(tenant))
        {
            throw Shed(LlmLimitExceededException.TenantRate);
        }

        if (_rate is not null && !_rate.TryTake(null))
        {
            throw Shed(LlmLimitExceededException.Rate);
        }

        RateLimitLease? tenantPermit = null;
        RateLimitLease? permit = null;
        try
        {
            if (_tenantConcurrency is not null)
            {
                tenantPermit = _tenantConcurrency.AttemptAcquire(tenant);
                if (!tenantPermit.IsAcquired)
                {
                    throw Shed(LlmLimitExceededException.TenantConcurrency);
                }
            }

            if (_concurrency is not null)
            {
                permit = await _concurrency.AcquireAsync(1, executionToken).ConfigureAwait(false);
                if (!permit.IsAcquired)
                {
                    throw Shed(LlmLimitExceededException.Concurrency);
                }
            }

            return await ThroughBreakerAsync(attempts, state, executionToken).ConfigureAwait(false);
        }
        finally
        {
            permit?.Dispose();
            tenantPermit?.Dispose();
        }
    }

    public void Dispose()
    {
        _concurrency?.Dispose();
        _tenantConcurrency?.Dispose();
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
