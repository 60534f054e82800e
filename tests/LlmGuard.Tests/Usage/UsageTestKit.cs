using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Usage;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Usage;

/// <summary>A runtime with usage accounting on, its fake clock, its log and a sink that keeps every record.</summary>
internal sealed class UsageTestKit : IDisposable
{
    public UsageTestKit(Action<LlmGuardOptions>? configure = null, params ILlmUsageSink[] extraSinks)
    {
        Options = new LlmGuardOptions();
        configure?.Invoke(Options);
        LoggerFactory = new LoggerFactory([Logs]);
        var sinks = new List<ILlmUsageSink> { Sink };
        sinks.AddRange(extraSinks);
        Runtime = new GuardRuntime(Clock) { Options = Options, UsageSinks = sinks, LoggerFactory = LoggerFactory, MeterFactory = Meters };
    }

    public FakeTimeProvider Clock { get; } = new();

    public LlmGuardOptions Options { get; }

    public FakeLoggerProvider Logs { get; } = new();

    public TestMeterFactory Meters { get; } = new();

    public LoggerFactory LoggerFactory { get; }

    public CollectingSink Sink { get; } = new();

    public GuardRuntime Runtime { get; }

    /// <summary>Every usage record of the executions that completed so far, once delivered.</summary>
    public async Task<IReadOnlyList<LlmUsageRecord>> RecordsAsync()
    {
        await Runtime.Usage.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10));
        return Sink.Records.ToArray();
    }

    public static ChatResponse Response(string text, long input, long output, string? model = null) =>
        new(new ChatMessage(ChatRole.Assistant, text))
        {
            ModelId = model,
            Usage = new UsageDetails { InputTokenCount = input, OutputTokenCount = output },
        };

    public void Dispose()
    {
        LoggerFactory.Dispose();
        Meters.Dispose();
    }
}

internal sealed class CollectingSink : ILlmUsageSink
{
    public ConcurrentQueue<LlmUsageRecord> Records { get; } = new();

    public ValueTask WriteAsync(IReadOnlyList<LlmUsageRecord> records, CancellationToken cancellationToken)
    {
        foreach (LlmUsageRecord record in records)
        {
            Records.Enqueue(record);
        }

        return default;
    }
}

/// <summary>Meters of one test only, so a collector never sees another test's runtime.</summary>
internal sealed class TestMeterFactory : System.Diagnostics.Metrics.IMeterFactory
{
    private readonly List<System.Diagnostics.Metrics.Meter> _meters = new();

    public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options)
    {
        var meter = new System.Diagnostics.Metrics.Meter(new System.Diagnostics.Metrics.MeterOptions(options.Name) { Version = options.Version, Tags = options.Tags, Scope = this });
        lock (_meters)
        {
            _meters.Add(meter);
        }

        return meter;
    }

    public void Dispose()
    {
        lock (_meters)
        {
            _meters.ForEach(meter => meter.Dispose());
        }
    }
}
