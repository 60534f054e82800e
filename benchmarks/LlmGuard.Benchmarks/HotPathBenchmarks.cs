using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading;
using System.Threading.Tasks;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.Retry;

namespace LlmGuard.Benchmarks;

/// <summary>
/// One call whose core completes synchronously and finds nothing in flight: the cost LlmGuard adds on every call,
/// against the core alone, Polly alone, and the singleflight a team would write by hand today; and what telemetry adds
/// to it, unlistened and listened to.
/// </summary>
[MemoryDiagnoser]
public partial class HotPathBenchmarks
{
    private static readonly Task<string> s_answer = Task.FromResult("It ships today.");

    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _handWrittenFlights = new();
    private ResiliencePipeline _pipeline = ResiliencePipeline.Empty;
    private readonly TelemetryDesk _unlistened = new(new GuardRuntime { MeterFactory = new BenchmarkMeterFactory(), LoggerFactory = NullLoggerFactory.Instance });
    private readonly TelemetryDesk _listened = new(new GuardRuntime { MeterFactory = new BenchmarkMeterFactory(), LoggerFactory = NullLoggerFactory.Instance });
    private readonly TelemetryDesk _metered = new(new GuardRuntime { MeterFactory = new BenchmarkMeterFactory(), LoggerFactory = NullLoggerFactory.Instance });
    private readonly TelemetryDesk _logged = new(new GuardRuntime { MeterFactory = new BenchmarkMeterFactory(), LoggerFactory = new EnabledLoggerFactory() });
    private ResiliencePipeline _pollyWithTelemetry = ResiliencePipeline.Empty;
    private MeterListener? _meterListener;
    private ActivityListener? _activityListener;

    // Each benchmark runs in a process of its own, so the listeners attached here reach only the listened rows.
    [GlobalSetup(Targets = [nameof(GuardedMetricsListened), nameof(PollyListened)])]
    public void SetupMeterListener() => SetupListeners(traces: false);

    [GlobalSetup(Target = nameof(GuardedListened))]
    public void SetupMeterAndActivityListeners() => SetupListeners(traces: true);

    private void SetupListeners(bool traces)
    {
        Setup();

        // Polly's own telemetry (Polly.Extensions), the yardstick for what observing a resilient call may cost.
        _pollyWithTelemetry = PollyPipeline().ConfigureTelemetry(NullLoggerFactory.Instance).Build();
        _meterListener = new MeterListener
        {
            InstrumentPublished = static (instrument, listener) =>
            {
                if (instrument.Meter.Name is "LlmGuard" or "Polly")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _meterListener.SetMeasurementEventCallback<long>(static (_, _, _, _) => { });
        _meterListener.SetMeasurementEventCallback<double>(static (_, _, _, _) => { });
        _meterListener.Start();
        if (!traces)
        {
            return;
        }

        _activityListener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name is "LlmGuard" or "Polly",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(_activityListener);
    }

    [GlobalCleanup(Targets = [nameof(GuardedListened), nameof(GuardedMetricsListened), nameof(PollyListened)])]
    public void CleanupListeners()
    {
        _meterListener?.Dispose();
        _activityListener?.Dispose();
    }

    [GlobalSetup]
    public void Setup() => _pipeline = PollyPipeline().Build();

    // The same retry around a per-attempt timeout as the guarded method's attribute asks for.
    private static ResiliencePipelineBuilder PollyPipeline() =>
        new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = 2,
                Delay = TimeSpan.FromMilliseconds(200),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = static args => new ValueTask<bool>(TransientFailure.IsTransient(args.Outcome.Exception)),
            })
            .AddTimeout(TimeSpan.FromSeconds(30));

    [Benchmark(Baseline = true, Description = "core called directly")]
    public Task<string> CoreDirectly() => AskCoreAsync("user-1", "where is my order?", CancellationToken.None);

    [Benchmark(Description = "Polly.Core alone")]
    public async Task<string> PollyAlone() =>
        await _pipeline.ExecuteAsync(static (self, token) => new ValueTask<string>(self.AskCoreAsync("user-1", "where is my order?", token)), this, CancellationToken.None);

    [Benchmark(Description = "hand-written singleflight + Polly")]
    public async Task<string> HandWritten()
    {
        string userId = "user-1", question = "where is my order?";
        string key = $"support:{userId}:{question}";
        var flight = new Lazy<Task<string>>(() => _pipeline.ExecuteAsync(
            static (state, token) => new ValueTask<string>(state.self.AskCoreAsync(state.userId, state.question, token)),
            (self: this, userId, question),
            CancellationToken.None).AsTask());
        Lazy<Task<string>> shared = _handWrittenFlights.GetOrAdd(key, flight);
        try
        {
            return await shared.Value;
        }
        finally
        {
            _handWrittenFlights.TryRemove(new(key, shared));
        }
    }

    [Benchmark(Description = "LlmGuard [Guarded]")]
    public Task<string> Guarded() => AskAsync("user-1", "where is my order?", CancellationToken.None);

    [Benchmark(Description = "LlmGuard [Guarded], meter and logger nobody listens to")]
    public Task<string> GuardedUnlistened() => _unlistened.AskAsync("user-1", "where is my order?", CancellationToken.None);

    [Benchmark(Description = "LlmGuard [Guarded], metrics and traces listened to")]
    public Task<string> GuardedListened() => _listened.AskAsync("user-1", "where is my order?", CancellationToken.None);

    [Benchmark(Description = "LlmGuard [Guarded], metrics listened to")]
    public Task<string> GuardedMetricsListened() => _metered.AskAsync("user-1", "where is my order?", CancellationToken.None);

    [Benchmark(Description = "LlmGuard [Guarded], LlmGuard logs enabled, nothing else listens")]
    public Task<string> GuardedLogged() => _logged.AskAsync("user-1", "where is my order?", CancellationToken.None);

    [Benchmark(Description = "Polly.Core with its metrics listened to")]
    public async Task<string> PollyListened() =>
        await _pollyWithTelemetry.ExecuteAsync(static (self, token) => new ValueTask<string>(self.AskCoreAsync("user-1", "where is my order?", token)), this, CancellationToken.None);

    [Guarded(Scene = "support", TimeoutMs = 30_000, MaxRetries = 2, RetryDelayMs = 200)]
    public partial Task<string> AskAsync(string userId, string question, CancellationToken cancellationToken);

    private Task<string> AskCoreAsync(string userId, string question, CancellationToken cancellationToken) => s_answer;

    // A host whose logging lets LlmGuard's category through: every logger enabled, every line discarded.
    private sealed class EnabledLoggerFactory : ILoggerFactory, ILogger
    {
        public ILogger CreateLogger(string categoryName) => this;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
        }

        public void Dispose()
        {
        }
    }

    // The meters a host's IMeterFactory creates; nothing here is ever disposed, as in a process-long host.
    private sealed class BenchmarkMeterFactory : IMeterFactory
    {
        public Meter Create(MeterOptions options)
        {
            options.Scope = this;
            return new Meter(options);
        }

        public void Dispose()
        {
        }
    }
}

/// <summary>The benchmark's guarded method on a runtime of its own, with the runtime's telemetry services.</summary>
public partial class TelemetryDesk(GuardRuntime runtime)
{
    private static readonly Task<string> s_answer = Task.FromResult("It ships today.");

    [Guarded(Scene = "support", TimeoutMs = 30_000, MaxRetries = 2, RetryDelayMs = 200)]
    public partial Task<string> AskAsync(string userId, string question, CancellationToken cancellationToken);

    private Task<string> AskCoreAsync(string userId, string question, CancellationToken cancellationToken) => s_answer;
}
