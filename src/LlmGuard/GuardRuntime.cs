using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Failures;
using LlmGuard.Infrastructure;
using LlmGuard.Protection;
using LlmGuard.Telemetry;
using LlmGuard.Usage;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace LlmGuard;

/// <summary>
/// The one object through which generated code reaches run-time services, starting with time.
/// Guarded methods use the containing type's single field, property or primary-constructor parameter of this
/// type when it has one (and it is not <see langword="null"/>), otherwise <see cref="Default"/>.
/// </summary>
/// <remarks>
/// Guard state (the calls in flight and the resilience pipeline of each guarded method) belongs to a runtime:
/// two runtimes never share an execution. Services added later reach generated code through this type, so the
/// shape of generated code does not change when they arrive.
/// </remarks>
public sealed class GuardRuntime : IDisposable, IAsyncDisposable
{
    // How long disposal waits for the usage records still queued to reach the sinks.
    private static readonly TimeSpan s_usageDrainTimeout = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<GuardedMethod, IGuardedMethodState> _states = new();

    // Serializes reconfiguration with the creation of states, so a state created during a reload never keeps the old settings.
    private readonly object _configurationLock = new();
    private long _abandonedAttemptCount;
    private long _policyBuildCount;
    private LlmGuardOptions? _options;
    private Dictionary<string, SceneOverrides> _scenes = new(StringComparer.Ordinal);
    private UsageLedger? _usage;
    private readonly object _telemetryGate = new();
    private GuardTelemetry? _telemetry;

    // One protection per scene that has any; a replaced one is retired, and disposes its limiters once the executions
    // that started under it have ended.
    private readonly ConcurrentDictionary<string, (SceneProtection? Protection, long Generation)> _protections = new(StringComparer.Ordinal);
    private long _configurationGeneration;

    /// <summary>Creates a runtime that measures time on <paramref name="timeProvider"/>.</summary>
    /// <param name="timeProvider">The clock for timeouts and retry delays; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public GuardRuntime(TimeProvider? timeProvider = null)
    {
        TimeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Gets the process-wide runtime used by guarded methods whose type declares none.</summary>
    public static GuardRuntime Default { get; } = new();

    /// <summary>Gets the clock that per-attempt timeouts and retry delays are measured on.</summary>
    public TimeProvider TimeProvider { get; }

    /// <summary>
    /// Gets the team's own failure rule, asked before LlmGuard's built-in rules whether a failed attempt is retried
    /// and after how long; <see langword="null"/> (the default) leaves every decision to the built-in rules.
    /// Set it when the runtime is created: each guarded method reads it once, on its first call on this runtime.
    /// </summary>
    public FailureClassifier? FailureClassifier { get; init; }

    /// <summary>
    /// Gets the factory of the loggers guarded calls write to; <see langword="null"/> (the default) writes no logs.
    /// Set it when the runtime is created; <c>AddLlmGuard()</c> sets it from the container.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>
    /// Gets the factory that creates the <c>LlmGuard</c> meter; <see langword="null"/> (the default) creates the meter
    /// directly. Set it when the runtime is created; <c>AddLlmGuard()</c> sets it from the container.
    /// </summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; init; }

    /// <summary>
    /// Gets the run-time settings (scenes, budgets, prices); <see langword="null"/> (the default) runs every guarded
    /// method with its attribute's values. Set it when the runtime is created; <c>AddLlmGuard()</c> binds it from
    /// configuration and, after a valid reload, returns the reloaded settings.
    /// </summary>
    /// <remarks>
    /// The scene settings are copied when they are set: changing the object afterwards changes no call. Each guarded
    /// method builds its policy from them on its first call on this runtime.
    /// </remarks>
    /// <exception cref="ArgumentException">A scene setting is out of its range; the message names the scene, the key and the range.</exception>
    public LlmGuardOptions? Options
    {
        get => Volatile.Read(ref _options);
        init
        {
            if (value is not null)
            {
                // Standalone runtimes check ranges only: scenes of assemblies that have not run yet are not known here.
                List<string> failures = LlmGuardOptionsValidation.Validate(value, requireKnownScenes: false, scenesSection: null);
                if (failures.Count > 0)
                {
                    throw new ArgumentException(string.Join(Environment.NewLine, failures), nameof(value));
                }
            }

            _options = value;
            _scenes = SceneOverrides.Snapshot(value);
        }
    }

    /// <summary>
    /// Gets the cache that methods with <see cref="GuardedAttribute.CacheSeconds"/> store their successful answers in;
    /// <see langword="null"/> (the default) caches nothing. Set it when the runtime is created; <c>AddLlmGuard()</c>
    /// sets it from the container, adding <c>AddHybridCache()</c> when no cache is registered.
    /// </summary>
    public Microsoft.Extensions.Caching.Hybrid.HybridCache? HybridCache { get; init; }

    /// <summary>
    /// Gets the generator that embeds the <see cref="SemanticCacheTextAttribute">[SemanticCacheText]</see> texts of the
    /// scenes that turn <see cref="LlmSceneOptions.SemanticCache"/> on; <see langword="null"/> (the default) turns the
    /// semantic cache off everywhere, and a scene that asks for it logs a warning and uses the exact cache only. Set it
    /// when the runtime is created; <c>AddLlmGuard()</c> sets it from the container when one is registered.
    /// </summary>
    public IEmbeddingGenerator<string, Embedding<float>>? EmbeddingGenerator { get; init; }

    /// <summary>
    /// Gets the sinks that receive a usage record per execution, in batches, off the callers' path; <see langword="null"/>
    /// (the default) records none. Set it when the runtime is created; <c>AddLlmGuard()</c> sets it from the container.
    /// </summary>
    public System.Collections.Generic.IReadOnlyList<ILlmUsageSink>? UsageSinks { get; init; }

    /// <summary>
    /// Gets the hook that shares the executions of scenes with <see cref="LlmSceneOptions.Distributed"/> on with other
    /// instances; <see langword="null"/> (the default) keeps every execution on this instance. Set it when the runtime
    /// is created; <c>AddLlmGuard()</c> sets it from the container when one is registered.
    /// </summary>
    public Distribution.IDistributedFlights? DistributedFlights { get; init; }

    /// <summary>
    /// Gets the hook that counts the tokens of <see cref="LlmGuardOptions.Budgets"/> over every instance of a deployment;
    /// <see langword="null"/> (the default) counts each budget on this instance alone. Admission never waits for it:
    /// see <see cref="Distribution.IDistributedBudgets"/> for what another instance's spending costs to be seen. Set it
    /// when the runtime is created; <c>AddLlmGuard()</c> sets it from the container when one is registered.
    /// </summary>
    public Distribution.IDistributedBudgets? DistributedBudgets { get; init; }

    /// <summary>
    /// Gets the number of executions in flight, over every guarded method that has run on this runtime.
    /// It is 0 whenever no guarded call is running.
    /// </summary>
    public int InFlightCount
    {
        get
        {
            int count = 0;
            foreach (IGuardedMethodState state in _states.Values)
            {
                count += state.InFlightCount;
            }

            return count;
        }
    }

    /// <summary>
    /// Gets the number of attempts abandoned on this runtime: attempts whose core was still running 100 ms (measured
    /// on <see cref="TimeProvider"/>) after the attempt's token was cancelled, by its timeout or because every caller
    /// left. Their callers were answered without them; their eventual results were discarded.
    /// </summary>
    /// <remarks>A count that grows means a core ignores its <see cref="System.Threading.CancellationToken"/>.</remarks>
    public long AbandonedAttemptCount => Interlocked.Read(ref _abandonedAttemptCount);

    internal UsageLedger Usage => Volatile.Read(ref _usage) ?? CreateUsage();

    /// <summary>
    /// Delivers the usage records still queued to the usage sinks, for at most 5 seconds on <see cref="TimeProvider"/>,
    /// then cancels the sinks' token and stops delivering; records of executions that end later are not delivered.
    /// A hosted runtime is disposed by its container, before the sinks it was given.
    /// </summary>
    /// <returns>Completes when delivery has stopped.</returns>
    public ValueTask DisposeAsync()
    {
        DisposeProtections();
        return Volatile.Read(ref _usage) is { } usage ? usage.StopAsync(s_usageDrainTimeout) : default;
    }

    /// <summary>Does what <see cref="DisposeAsync"/> does, blocking the calling thread until delivery has stopped.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    // Created when a guarded method first runs on this runtime (it builds its policy then), after the init properties
    // it reads are set.
    internal GuardTelemetry Telemetry => Volatile.Read(ref _telemetry) ?? CreateTelemetry();

    /// <summary>Gets how many method policies this runtime built: one per guarded method, plus one per reload that changed its scene.</summary>
    internal long PolicyBuildCount => Interlocked.Read(ref _policyBuildCount);

    // Under the same lock as the telemetry, for the same reason: a discarded ledger would leave a delivery loop, a cost
    // counter and budgets that count tokens nobody enforces.
    private UsageLedger CreateUsage()
    {
        lock (_telemetryGate)
        {
            return _usage ??= new UsageLedger(this);
        }
    }

    // Under a lock rather than a compare-and-swap: a discarded instance would still have created a meter with the
    // same name through the factory, and a listener may bind to that meter's instruments, which never record.
    private GuardTelemetry CreateTelemetry()
    {
        lock (_telemetryGate)
        {
            return _telemetry ??= new GuardTelemetry(this);
        }
    }

    /// <summary>
    /// Gets the protection of <paramref name="scene"/> for <paramref name="settings"/>, shared by every method of the
    /// scene: the scene's current one when it was built under the current configuration (by the scene's first method
    /// to build its policy, whose attribute constants win over a later method's) or when its settings are equal (its
    /// breaker keeps its state); otherwise a new one that replaces it. <see langword="null"/> when the settings protect
    /// nothing.
    /// </summary>
    internal SceneProtection? ProtectionFor(string scene, ProtectionSettings settings)
    {
        lock (_protections)
        {
            long generation = Interlocked.Read(ref _configurationGeneration);
            if (_protections.TryGetValue(scene, out (SceneProtection? Protection, long Generation) current)
                && (current.Generation == generation || (current.Protection is null ? settings.IsEmpty : current.Protection.Settings == settings)))
            {
                _protections[scene] = (current.Protection, generation);
                return current.Protection;
            }

            current.Protection?.Retire();

            // An operator who raises MaxQueue during an outage must not close the breaker that is keeping it off the model.
            SceneBreaker? keptBreaker = current.Protection?.Breaker is { } breaker && breaker.Settings == settings.Breaker ? breaker : null;
            SceneProtection? protection = settings.IsEmpty ? null : new SceneProtection(scene, settings, this, keptBreaker);
            _protections[scene] = (protection, generation);
            return protection;
        }
    }

    /// <summary>Gets the breaker state of every scene that has a breaker, for the <c>llmguard.breaker.state</c> gauge.</summary>
    internal IEnumerable<SceneProtection> Protections
    {
        get
        {
            foreach ((SceneProtection? protection, _) in _protections.Values)
            {
                if (protection is not null)
                {
                    yield return protection;
                }
            }
        }
    }

    private void DisposeProtections()
    {
        lock (_protections)
        {
            foreach ((SceneProtection? protection, _) in _protections.Values)
            {
                protection?.Dispose();
            }
        }
    }

    internal void CountAbandonedAttempt() => Interlocked.Increment(ref _abandonedAttemptCount);

    internal void CountPolicyBuild() => Interlocked.Increment(ref _policyBuildCount);

    internal GuardedMethodState<TResult> GetState<TResult>(GuardedMethod<TResult> method)
    {
        if (_states.TryGetValue(method, out IGuardedMethodState? state))
        {
            return (GuardedMethodState<TResult>)state;
        }

        lock (_configurationLock)
        {
            return (GuardedMethodState<TResult>)_states.GetOrAdd(method, static (m, runtime) => ((GuardedMethod<TResult>)m).CreateState(runtime), this);
        }
    }

    internal GuardedStreamMethodState<T> GetStreamState<T>(GuardedStreamMethod<T> method)
    {
        if (_states.TryGetValue(method, out IGuardedMethodState? state))
        {
            return (GuardedStreamMethodState<T>)state;
        }

        lock (_configurationLock)
        {
            return (GuardedStreamMethodState<T>)_states.GetOrAdd(method, static (m, runtime) => ((GuardedStreamMethod<T>)m).CreateState(runtime), this);
        }
    }

    /// <summary>Gets the configured overrides of <paramref name="scene"/>; none when the scene is not configured.</summary>
    internal SceneOverrides SceneOverridesFor(string scene) =>
        Volatile.Read(ref _scenes).TryGetValue(scene, out SceneOverrides overrides) ? overrides : default;

    /// <summary>
    /// Applies reloaded, validated options: every guarded method of a scene whose settings changed builds its policy
    /// once; calls already started keep the policy they started under.
    /// </summary>
    /// <param name="options">The new options.</param>
    internal void Reconfigure(LlmGuardOptions options)
    {
        List<string> changed;
        lock (_configurationLock)
        {
            Dictionary<string, SceneOverrides> previous = _scenes;
            Dictionary<string, SceneOverrides> next = SceneOverrides.Snapshot(options);
            changed = ChangedScenes(previous, next);
            Interlocked.Increment(ref _configurationGeneration);
            Volatile.Write(ref _options, options);
            Volatile.Write(ref _scenes, next);
            foreach (IGuardedMethodState state in _states.Values)
            {
                if (changed.Contains(state.Scene))
                {
                    state.Reconfigure();
                }
            }
        }

        if (changed.Count > 0 && LoggerFactory is { } loggerFactory)
        {
            ILogger logger = loggerFactory.CreateLogger(ConfigurationLog.Category);
            ConfigurationLog.ConfigurationReloaded(logger, changed);
        }
    }

    private static List<string> ChangedScenes(Dictionary<string, SceneOverrides> previous, Dictionary<string, SceneOverrides> next)
    {
        var changed = new List<string>();
        foreach (KeyValuePair<string, SceneOverrides> scene in next)
        {
            if (previous.GetValueOrDefault(scene.Key) != scene.Value)
            {
                changed.Add(scene.Key);
            }
        }

        foreach (KeyValuePair<string, SceneOverrides> scene in previous)
        {
            if (!next.ContainsKey(scene.Key) && scene.Value != default)
            {
                changed.Add(scene.Key);
            }
        }

        changed.Sort(StringComparer.Ordinal);
        return changed;
    }
}
