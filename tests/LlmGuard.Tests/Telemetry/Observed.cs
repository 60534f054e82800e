using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Linq;
using LlmGuard.Configuration;
using LlmGuard.Tests.Fakes;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Telemetry;

/// <summary>
/// Telemetry tests attach process-wide activity listeners, which would make every other test's calls observed:
/// they run alone.
/// </summary>
[CollectionDefinition(nameof(TelemetryCollection), DisableParallelization = true)]
public sealed class TelemetryCollection;

/// <summary>A runtime whose meter, logs and clock a test reads and moves, and a desk that runs on it.</summary>
internal sealed class Observed : IDisposable
{
    private readonly MeterFactory _meters = new();
    private readonly ILoggerFactory _loggerFactory;

    public Observed(bool logs = true, LlmGuardOptions? options = null, LogLevel minimumLevel = LogLevel.Trace)
    {
        Logs = new FakeLogCollector();
        _loggerFactory = LoggerFactory.Create(builder =>
        {
            builder.SetMinimumLevel(minimumLevel);
            if (logs)
            {
                builder.AddProvider(new FakeLoggerProvider(Logs));
            }
        });
        Runtime = new GuardRuntime(Clock) { MeterFactory = _meters, LoggerFactory = _loggerFactory, Options = options };
        Desk = new ObservedDesk(Runtime, Model);
    }

    public FakeTimeProvider Clock { get; } = new();

    public ScriptedModel Model { get; } = new();

    public GuardRuntime Runtime { get; }

    public ObservedDesk Desk { get; }

    public FakeLogCollector Logs { get; }

    /// <summary>Listens to one instrument of this runtime's meter only, so other runtimes' measurements never count.</summary>
    public MetricCollector<T> Collect<T>(string instrument)
        where T : struct => new(_meters, "LlmGuard", instrument);

    public void Dispose()
    {
        _loggerFactory.Dispose();
        _meters.Dispose();
    }

    /// <summary>Counts measurements by their tags' values, e.g. "executed/success".</summary>
    public static Dictionary<string, long> Sum<T>(MetricCollector<T> collector, params string[] tags)
        where T : struct =>
        collector.GetMeasurementSnapshot()
            .GroupBy(m => string.Join("/", tags.Select(tag => m.Tags.TryGetValue(tag, out object? value) ? value : null)))
            .ToDictionary(g => g.Key, g => g.Sum(m => Convert.ToInt64(m.Value)));

    // The meters a hosted application's IMeterFactory would create: scoped to it, disposed with it.
    private sealed class MeterFactory : IMeterFactory
    {
        private readonly ConcurrentBag<Meter> _created = new();

        public Meter Create(MeterOptions options)
        {
            options.Scope = this;
            var meter = new Meter(options);
            _created.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (Meter meter in _created)
            {
                meter.Dispose();
            }
        }
    }
}

/// <summary>Collects the LlmGuard activities of one trace: the test's own root activity's.</summary>
internal sealed class TraceRecorder : IDisposable
{
    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();

    public TraceRecorder()
    {
        Root = new Activity("test").Start();
        ActivityTraceId trace = Root.TraceId;
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "LlmGuard",
            Sample = (ref ActivityCreationOptions<ActivityContext> options) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId == trace)
                {
                    _stopped.Enqueue(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public Activity Root { get; }

    public IReadOnlyList<Activity> Stopped => _stopped.ToArray();

    public void Dispose()
    {
        _listener.Dispose();
        Root.Stop();
    }
}
