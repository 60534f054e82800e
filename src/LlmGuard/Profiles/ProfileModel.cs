using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Failures;
using LlmGuard.Protection;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;

namespace LlmGuard.Profiles;

/// <summary>
/// One model of a profile: its client, the model id its requests carry, its requests in flight and its circuit breaker.
/// Kept across a reload that leaves its settings unchanged, so a reload neither closes an open breaker nor forgets the
/// requests in flight.
/// </summary>
internal sealed class ProfileModel
{
    private readonly CircuitBreakerStateProvider _breakerState = new();
    private readonly TimeProvider _timeProvider;
    private int _inFlight;

    // When an opened breaker admits its probe; Polly moves to half-open only when a request arrives, so a skipped
    // model would otherwise stay open for good.
    private long _probeAt;

    public ProfileModel(ProfileModelSettings settings, IChatClient client, ProfileEnvironment environment, string profile)
    {
        Settings = settings;
        Client = client;
        _timeProvider = environment.TimeProvider;
        // Validation lets no model leave both out.
        Name = settings.Model ?? settings.Client!;

        FailureClassifier? teamClassifier = environment.FailureClassifier;
        ILogger? logger = environment.Logger;
        string name = Name;
        var builder = new ResiliencePipelineBuilder { TimeProvider = environment.TimeProvider };
        builder.AddCircuitBreaker(new CircuitBreakerStrategyOptions
        {
            FailureRatio = settings.FailureRatio,
            MinimumThroughput = settings.MinimumThroughput,
            SamplingDuration = TimeSpan.FromMilliseconds(settings.SamplingMs),
            BreakDuration = TimeSpan.FromMilliseconds(settings.BreakMs),
            StateProvider = _breakerState,
            ShouldHandle = args => new ValueTask<bool>(BreakerFailures.CountsAsFailure(
                args.Outcome.Exception, _breakerState.CircuitState == CircuitState.HalfOpen, teamClassifier, _timeProvider, args.Context.CancellationToken)),
            OnOpened = args =>
            {
                Volatile.Write(ref _probeAt, _timeProvider.GetTimestamp() + ToTimestampTicks(args.BreakDuration));
                if (logger is not null)
                {
                    ProfileLog.ModelBreakerOpened(logger, name, profile, args.BreakDuration, args.Outcome.Exception);
                }

                return default;
            },
            OnClosed = _ =>
            {
                if (logger is not null)
                {
                    ProfileLog.ModelBreakerClosed(logger, name, profile);
                }

                return default;
            },
        });
        Breaker = builder.Build();
        TimedBreaker = settings.TimeoutMs == 0
            ? Breaker
            : new ResiliencePipelineBuilder { TimeProvider = environment.TimeProvider }
                .AddPipeline(Breaker)
                .AddTimeout(TimeSpan.FromMilliseconds(settings.TimeoutMs))
                .Build();
    }

    public ProfileModelSettings Settings { get; }

    public IChatClient Client { get; }

    /// <summary>Gets the name logs and metrics show: the model id, else the client's key.</summary>
    public string Name { get; }

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Gets the breaker alone: streaming requests pass it once, for their first update.</summary>
    public ResiliencePipeline Breaker { get; }

    /// <summary>Gets the breaker around the profile's timeout, when it has one: a timed-out request counts against the model.</summary>
    public ResiliencePipeline TimedBreaker { get; }

    /// <summary>
    /// Gets whether a request may be sent to the model now: its breaker is closed or half-open, or it is open and its
    /// break has passed, so the request becomes the probe. Polly decides who the one probe is.
    /// </summary>
    public bool IsAvailable => _breakerState.CircuitState switch
    {
        CircuitState.Closed or CircuitState.HalfOpen => true,
        CircuitState.Open => _timeProvider.GetTimestamp() >= Volatile.Read(ref _probeAt),
        _ => false,
    };

    public CircuitState BreakerState => _breakerState.CircuitState;

    /// <summary>
    /// Gets the breaker's state as <c>llmguard.profile.breaker.state</c> reports it, in the encoding of
    /// <c>llmguard.breaker.state</c>: 0 closed, 1 half-open (its probe is running), 2 open.
    /// </summary>
    public int GaugeState => _breakerState.CircuitState switch
    {
        CircuitState.Closed => SceneProtection.Closed,
        CircuitState.HalfOpen => SceneProtection.HalfOpen,
        _ => SceneProtection.Open,
    };

    public void Enter() => Interlocked.Increment(ref _inFlight);

    public void Exit() => Interlocked.Decrement(ref _inFlight);

    /// <summary>Sets the model id on a copy of the caller's options, so the caller's object is never changed.</summary>
    public ChatOptions? OptionsFor(ChatOptions? options)
    {
        if (Settings.Model is not { } model)
        {
            return options;
        }

        ChatOptions copy = options?.Clone() ?? new ChatOptions();
        copy.ModelId = model;
        return copy;
    }

    private long ToTimestampTicks(TimeSpan duration) =>
        (long)(duration.Ticks * (double)_timeProvider.TimestampFrequency / TimeSpan.TicksPerSecond);
}
