using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using LlmGuard.Execution;
using LlmGuard.Protection;
using LlmGuard.Usage;
using Microsoft.Extensions.Logging;

namespace LlmGuard.Telemetry;

/// <summary>
/// The metrics, traces and logs of one <see cref="GuardRuntime"/>: the <c>LlmGuard</c> meter and its instruments,
/// the <c>LlmGuard</c> activity source and the <c>LlmGuard</c> logger. Created on the runtime's first guarded call,
/// after its init properties are set.
/// </summary>
/// <remarks>
/// Whether a call or an execution is observed is decided when it starts, from the instruments' and the source's own
/// listener flags: when nothing listens, a guarded call takes the same path as without telemetry.
/// </remarks>
internal sealed class GuardTelemetry
{
    /// <summary>One source for every runtime: listeners subscribe by name, so one per runtime would add nothing.</summary>
    public static readonly ActivitySource ActivitySource = new(TelemetryNames.Source);

    // Bucket boundaries advised by the OpenTelemetry semantic conventions for gen_ai client metrics, so LlmGuard's
    // histograms line up with those of the model SDKs' own instrumentation on one dashboard.
    private static readonly double[] s_durationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
    private static readonly long[] s_tokenBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

    private readonly GuardRuntime _runtime;
    private readonly Counter<long> _calls;
    private readonly Counter<long> _executions;
    private readonly Counter<long> _attempts;
    private readonly Histogram<double> _callDuration;
    private readonly Histogram<double> _executionDuration;
    private readonly Histogram<long> _tokenUsage;
    private readonly Counter<long> _tokensSaved;
    private readonly Counter<long> _rejections;
    private readonly Counter<long> _fallbacks;
    private readonly Histogram<double> _firstItemDuration;
    private readonly ILogger? _logger;

    public GuardTelemetry(GuardRuntime runtime)
    {
        _runtime = runtime;
        Meter meter = runtime.MeterFactory?.Create(new MeterOptions(TelemetryNames.Source)) ?? new Meter(TelemetryNames.Source);
        Meter = meter;
        _calls = meter.CreateCounter<long>(TelemetryNames.Calls, "{call}", "Guarded calls, one per caller, by how the caller got its answer and how it ended.");
        _executions = meter.CreateCounter<long>(TelemetryNames.Executions, "{execution}", "Executions of a guarded method's core pipeline, by how they ended.");
        _attempts = meter.CreateCounter<long>(TelemetryNames.Attempts, "{attempt}", "Calls of a guarded method's core, by how each attempt ended.");
        _callDuration = meter.CreateHistogram(
            TelemetryNames.CallDuration, "s", "How long each caller waited for its answer.", tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
        _executionDuration = meter.CreateHistogram(
            TelemetryNames.ExecutionDuration, "s", "How long each execution ran, every attempt and the fallback included.", tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
        _tokenUsage = meter.CreateHistogram(
            TelemetryNames.TokenUsage, "{token}", "Tokens one execution used, input and output apart.", tags: null, new InstrumentAdvice<long> { HistogramBucketBoundaries = s_tokenBuckets });
        _tokensSaved = meter.CreateCounter<long>(TelemetryNames.TokensSaved, "{token}", "Tokens not spent: for each caller answered by another caller's execution, the tokens that execution used.");
        _rejections = meter.CreateCounter<long>(TelemetryNames.Rejections, "{execution}", "Executions refused before their core ran, by what refused them: breaker, limit or budget.");
        meter.CreateObservableGauge(
            TelemetryNames.BreakerState, ObserveBreakers, "{state}", "The circuit breaker of each scene that has one: 0 closed, 1 half-open, 2 open.");
        _firstItemDuration = meter.CreateHistogram(
            TelemetryNames.StreamFirstItemDuration, "s", "How long each consumer of a guarded stream waited for its first item.", tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
        _fallbacks = meter.CreateCounter<long>(TelemetryNames.Fallbacks, "{execution}", "Executions answered by their fallback, by the level that answered: the fallback's scene when it is a guarded method, otherwise method.");

        // Read once: deciding per execution whether to observe it must cost a field read. Error is the most
        // permissive check (a filter that lets anything through lets errors through); each event still checks its
        // own level when it is written.
        ILogger? logger = runtime.LoggerFactory?.CreateLogger(TelemetryNames.Source);
        _logger = logger is not null && logger.IsEnabled(LogLevel.Error) ? logger : null;
    }

    /// <summary>Gets the runtime's <c>LlmGuard</c> meter, which every LlmGuard instrument is on.</summary>
    public Meter Meter { get; }

    /// <summary>Gets the logger of execution and attempt events, or <see langword="null"/> when nothing logs them.</summary>
    public ILogger? Logger => _logger;

    /// <summary>Gets whether anything listens to per-caller telemetry: the calls' metrics or traces.</summary>
    public bool ObservesCalls =>
        _calls.Enabled || _callDuration.Enabled || _tokensSaved.Enabled || _firstItemDuration.Enabled || ActivitySource.HasListeners();

    /// <summary>
    /// Gets whether an execution starting now needs an <see cref="ExecutionReport"/>: something listens to it, to its
    /// attempts or to its callers (who read their outcome from it), or usage accounting needs it.
    /// </summary>
    public bool ObservesExecutions =>
        ObservesCalls || _executions.Enabled || _executionDuration.Enabled || _tokenUsage.Enabled || _attempts.Enabled
        || _fallbacks.Enabled || _rejections.Enabled || _logger is not null || _runtime.Usage.IsActive;

    /// <summary>Gets whether an execution's tokens are measured: the token histogram or the tokens saved are listened to.</summary>
    public bool RecordsTokens => _tokenUsage.Enabled || _tokensSaved.Enabled;

    /// <summary>Starts the activity of one execution when something listens; it becomes the parent of its attempts.</summary>
    public static Activity? StartExecution(string activityName, string scene)
    {
        Activity? activity = ActivitySource.StartActivity(activityName, ActivityKind.Internal);
        activity?.SetTag(TelemetryNames.SceneTag, scene);
        return activity;
    }

    /// <summary>Starts the activity of one attempt, a child of its execution's, when something listens.</summary>
    public static Activity? StartAttempt(string scene, int attemptNumber)
    {
        Activity? activity = ActivitySource.StartActivity("llmguard.attempt", ActivityKind.Internal);
        if (activity is not null)
        {
            activity.SetTag(TelemetryNames.SceneTag, scene);
            activity.SetTag(TelemetryNames.AttemptNumberTag, attemptNumber);
        }

        return activity;
    }

    public void RecordAttempt(string scene, string result)
    {
        if (_attempts.Enabled)
        {
            _attempts.Add(1, new KeyValuePair<string, object?>(TelemetryNames.SceneTag, scene), new KeyValuePair<string, object?>(TelemetryNames.AttemptResultTag, result));
        }
    }

    /// <summary>Records one finished execution: its counter, duration, tokens and activity.</summary>
    public void RecordExecution(ExecutionReport report, Activity? activity)
    {
        var scene = new KeyValuePair<string, object?>(TelemetryNames.SceneTag, report.Scene);
        var result = new KeyValuePair<string, object?>(TelemetryNames.ResultTag, report.Result);
        _executions.Add(1, scene, result);
        _executionDuration.Record(report.Duration.TotalSeconds, scene, result);
        if (_tokenUsage.Enabled)
        {
            RecordTokens(report, scene);
        }

        if (activity is not null)
        {
            activity.SetTag(TelemetryNames.ResultTag, report.Result);
            if (report.Model is { } model)
            {
                activity.SetTag(TelemetryNames.ModelTag, model);
            }

            if (report.Result == CallResults.Error)
            {
                activity.SetStatus(ActivityStatusCode.Error);
            }
        }
    }

    /// <summary>Counts one execution refused before its core ran, by what refused it.</summary>
    public void RecordRejection(string scene, LlmCallRejectedException rejection)
    {
        string reason = rejection switch
        {
            LlmCircuitOpenException => RejectionReasons.Breaker,
            LlmBudgetExceededException => RejectionReasons.Budget,
            _ => RejectionReasons.Limit,
        };
        _rejections.Add(1, new KeyValuePair<string, object?>(TelemetryNames.SceneTag, scene), new KeyValuePair<string, object?>(TelemetryNames.RejectionReasonTag, reason));
    }

    private IEnumerable<Measurement<int>> ObserveBreakers()
    {
        foreach (SceneProtection protection in _runtime.Protections)
        {
            if (protection.BreakerState is int state)
            {
                yield return new Measurement<int>(state, new KeyValuePair<string, object?>(TelemetryNames.SceneTag, protection.Scene));
            }
        }
    }

    /// <summary>Records an execution its fallback answered, tagged with the level that answered.</summary>
    /// <param name="scene">The scene of the execution.</param>
    /// <param name="fallbackScene">The scene of the guarded method that answered, or <see langword="null"/> for a plain fallback method.</param>
    public void RecordFallback(string scene, string? fallbackScene)
    {
        if (_fallbacks.Enabled)
        {
            _fallbacks.Add(1, new KeyValuePair<string, object?>(TelemetryNames.SceneTag, scene), new KeyValuePair<string, object?>(TelemetryNames.FallbackTag, fallbackScene ?? TelemetryNames.PlainFallback));
        }
    }

    /// <summary>Records one caller: its counter, how long it waited and, when another caller's execution answered it, the tokens saved.</summary>
    public void RecordCall(string scene, string outcome, string result, TimeSpan waited, LlmCallContext? context, long tokensSaved)
    {
        var tags = new TagList
        {
            { TelemetryNames.SceneTag, scene },
            { TelemetryNames.OutcomeTag, outcome },
            { TelemetryNames.ResultTag, result },
        };

        // Tenants are few per deployment only in some deployments: the team opts in to the cardinality.
        if (_runtime.Options is { IncludeTenantInMetrics: true } && context?.Tenant is { } tenant)
        {
            tags.Add(TelemetryNames.TenantTag, tenant);
        }

        _calls.Add(1, tags);
        _callDuration.Record(waited.TotalSeconds, tags);
        if (tokensSaved > 0)
        {
            _tokensSaved.Add(tokensSaved, new KeyValuePair<string, object?>(TelemetryNames.SceneTag, scene), new KeyValuePair<string, object?>(TelemetryNames.OutcomeTag, outcome));
        }
    }

    /// <summary>Records how long one consumer of a guarded stream waited for its first item, by how it got its answer.</summary>
    public void RecordFirstItem(string scene, string outcome, TimeSpan waited)
    {
        if (_firstItemDuration.Enabled)
        {
            _firstItemDuration.Record(waited.TotalSeconds, new KeyValuePair<string, object?>(TelemetryNames.SceneTag, scene), new KeyValuePair<string, object?>(TelemetryNames.OutcomeTag, outcome));
        }
    }

    /// <summary>
    /// Records the activity of a caller answered by another caller's execution, linked to that execution's activity,
    /// from when the caller arrived to now.
    /// </summary>
    public static void RecordSharedCall(string scene, string outcome, string result, ActivityContext parent, DateTime startedAt, ActivityContext execution)
    {
        ActivityLink[]? links = execution == default ? null : [new ActivityLink(execution)];
        using Activity? activity = ActivitySource.StartActivity("llmguard.call " + scene, ActivityKind.Internal, parent, tags: null, links, startedAt);
        if (activity is not null)
        {
            activity.SetTag(TelemetryNames.SceneTag, scene);
            activity.SetTag(TelemetryNames.OutcomeTag, outcome);
            activity.SetTag(TelemetryNames.ResultTag, result);
        }
    }

    private void RecordTokens(ExecutionReport report, KeyValuePair<string, object?> scene)
    {
        KeyValuePair<string, object?> model = new(TelemetryNames.ModelTag, report.Model);
        if (report.InputTokens is { } input)
        {
            Record(input, "input");
        }

        if (report.OutputTokens is { } output)
        {
            Record(output, "output");
        }

        void Record(long tokens, string type)
        {
            var tags = new TagList { scene, { TelemetryNames.TokenTypeTag, type } };
            if (model.Value is not null)
            {
                tags.Add(model);
            }

            _tokenUsage.Record(tokens, tags);
        }
    }
}
