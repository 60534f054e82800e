using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Redis.Telemetry;
using LlmGuard.Redis.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Flights;

/// <summary>
/// One simulated instance of an application: its own container, runtime, clock, connection to Redis, log and meter, as
/// a separate process would have.
/// </summary>
public sealed class FlightInstance : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly MetricCollector<long> _fallbacks;

    private FlightInstance(ServiceProvider services)
    {
        _services = services;
        Runtime = services.GetRequiredService<GuardRuntime>();
        Logs = services.GetFakeLogCollector();
        _fallbacks = new MetricCollector<long>(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), RedisFallbacks.MeterName, RedisFallbacks.CounterName);
    }

    public GuardRuntime Runtime { get; }

    public FakeLogCollector Logs { get; }

    /// <summary>Gets the <c>reason</c> tag of every fallback this instance counted, in order; each was for the shared scene.</summary>
    public IReadOnlyList<string> FallbackReasons =>
        _fallbacks.GetMeasurementSnapshot()
            .Select(m =>
            {
                Assert.Equal(1, m.Value);
                Assert.Equal(SharedAssistant.Scene, m.Tags[RedisFallbacks.SceneTag]);
                return (string)m.Tags[RedisFallbacks.ReasonTag]!;
            })
            .ToList();

    /// <summary>Gets the ids of the events this instance logged in the LlmGuard.Redis category.</summary>
    public IReadOnlyList<int> RedisEventIds =>
        Logs.GetSnapshot().Where(r => r.Category == RedisLog.Category).Select(r => r.Id.Id).ToList();

    public ScriptedAssistant Assistant(ScriptedModel model) => new(Runtime, model);

    /// <summary>Builds an instance whose Distributed scene goes through Redis.</summary>
    /// <param name="clock">The instance's clock: polling, bounds, the Redis timeout and the circuit's backoff.</param>
    /// <param name="configure">Sets the Redis options (the connection among them).</param>
    /// <param name="connection">A connection the test controls (to kill it); <see langword="null"/> when <paramref name="configure"/> sets Configuration.</param>
    public static FlightInstance Create(TimeProvider clock, Action<LlmGuardRedisOptions> configure, IConnectionMultiplexer? connection = null)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddSingleton(clock);
        services.AddLogging(logging => logging.AddFakeLogging().SetMinimumLevel(LogLevel.Debug));
        services.AddMetrics();
        if (connection is not null)
        {
            services.AddSingleton(connection);
        }

        services.AddLlmGuard(options => options.Scenes[SharedAssistant.Scene] = new LlmSceneOptions { Distributed = true })
            .AddRedis(options =>
            {
                options.TypeInfoResolver = FlightJsonContext.Default;
                configure(options);
            });
        return new FlightInstance(services.BuildServiceProvider());
    }

    public async ValueTask DisposeAsync()
    {
        _fallbacks.Dispose();
        await _services.DisposeAsync();
    }
}

/// <summary>
/// A model whose executions the test answers one by one: each execution is a <see cref="Run"/> the test can wait for,
/// answer, fail, or watch being cancelled.
/// </summary>
public sealed class ScriptedModel
{
    private readonly Run[] _runs = Enumerable.Range(0, 8).Select(_ => new Run()).ToArray();
    private int _executions;

    public int Executions => Volatile.Read(ref _executions);

    /// <summary>Gets the execution with this number, counted from 0 in the order they started.</summary>
    public Run this[int execution] => _runs[execution];

    public async Task<string> RespondAsync(CancellationToken cancellationToken)
    {
        Run run = _runs[Interlocked.Increment(ref _executions) - 1];
        run.Start(cancellationToken);
        return await run.Result.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public sealed class Run
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<string> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered => _entered.Task;

        public Task Cancelled => _cancelled.Task;

        internal Task<string> Result => _result.Task;

        public void Answer(string answer) => _result.SetResult(answer);

        public void Fail(Exception exception) => _result.SetException(exception);

        internal void Start(CancellationToken cancellationToken)
        {
            cancellationToken.Register(() => _cancelled.TrySetResult());
            _entered.SetResult();
        }
    }
}

/// <summary>A guarded method of the shared scene over a <see cref="ScriptedModel"/>.</summary>
public partial class ScriptedAssistant(GuardRuntime runtime, ScriptedModel model)
{
    [Guarded(Scene = SharedAssistant.Scene, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> AskAsync(string question, CancellationToken cancellationToken = default);

    private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => model.RespondAsync(cancellationToken);
}
