using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Execution;
using LlmGuard.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LlmGuard.Usage;

/// <summary>
/// Where the executions of a runtime account for their tokens: budgets admit or reject an execution before it runs,
/// and each completed execution's usage goes to the registered sinks and prices.
/// </summary>
/// <remarks>
/// Records reach the sinks through a bounded channel read by one background loop, so a slow sink never slows a
/// caller: when the channel is full the record is dropped and counted. Records still in the channel when the process
/// exits are lost.
/// </remarks>
#pragma warning disable CA1001 // The delivery token source is disposed by StopAsync, which disposing the runtime calls.
internal sealed class UsageLedger
#pragma warning restore CA1001
{
    /// <summary>The most records handed to the sinks in one batch.</summary>
    internal const int MaxBatch = 256;

    private readonly GuardRuntime _runtime;
    private readonly ILlmUsageSink[] _sinks;
    private readonly TokenBudgets _budgets;
    private readonly SharedBudgets? _shared;
    private readonly Channel<LlmUsageRecord>? _queue;
    private readonly ILogger _logger;
    private readonly Counter<double>? _cost;
    private readonly CancellationTokenSource? _delivery;
    private readonly Task? _delivering;

    // At most one "records dropped" log a minute: a full queue drops on every execution.
    private readonly ThrottledCount _dropped = new(TimeSpan.FromMinutes(1));
    private long _written;
    private long _delivered;
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public UsageLedger(GuardRuntime runtime)
    {
        _runtime = runtime;
        _sinks = runtime.UsageSinks is { Count: > 0 } sinks ? [.. sinks] : [];
        _logger = runtime.LoggerFactory?.CreateLogger(TelemetryNames.Source) ?? NullLogger.Instance;
        _shared = runtime.DistributedBudgets is { } hook ? new SharedBudgets(hook, runtime.TimeProvider, _logger) : null;
        _budgets = new TokenBudgets(runtime.TimeProvider, _shared);

        // Decided once, when the runtime first runs a call, from the sinks and options it was created with.
        LlmGuardOptions? options = runtime.Options;
        IsActive = _sinks.Length > 0 || options is { Budgets.Count: > 0 } || options is { Prices.Count: > 0 };
        if (options is { Prices.Count: > 0 })
        {
            _cost = runtime.Telemetry.Meter.CreateCounter<double>(
                TelemetryNames.Cost,
                unit: "{currency}",
                description: "The cost of the tokens of executions, at the prices configured, in the team's currency.");
        }

        if (_sinks.Length > 0)
        {
            // Start-up validation reports a capacity below 1; the callers' path must not throw for it.
            var channelOptions = new BoundedChannelOptions(Math.Max(1, options?.UsageQueueCapacity ?? LlmGuardOptions.DefaultUsageQueueCapacity))
            {
                FullMode = BoundedChannelFullMode.DropWrite,
                SingleReader = true,
            };
            _queue = Channel.CreateBounded<LlmUsageRecord>(channelOptions, _ => CountDropped());
            _delivery = new CancellationTokenSource();

            // The loop outlives the call that created the ledger: it must not carry that caller's activity, call
            // context or logging scopes into every sink call.
            using (ExecutionContext.SuppressFlow())
            {
                _delivering = Task.Run(DeliverAsync);
            }
        }
    }

    /// <summary>Gets whether anything (a budget, a price, a sink) needs the executions' usage.</summary>
    public bool IsActive { get; }

    /// <summary>Gets how many usage records were dropped because the queue to the sinks was full.</summary>
    public long DroppedCount => _dropped.Total;

    /// <summary>Gets the number of budget partitions with a period in memory.</summary>
    internal int BudgetPartitionCount => _budgets.PartitionCount;

    /// <summary>Gets the number of budget partitions with a shared total in memory; 0 without a shared budgets hook.</summary>
    internal int SharedBudgetPartitionCount => _shared?.PartitionCount ?? 0;

    /// <summary>Gets how many exchanges with the shared budgets hook failed; 0 without one.</summary>
    internal long SharedBudgetFailureCount => _shared?.FailureCount ?? 0;

    /// <summary>Returns the refusal of a budget that this execution would exceed, or <see langword="null"/> to let it run.</summary>
    public LlmBudgetExceededException? TryAdmit(string scene, LlmCallContext? context)
    {
        // Read per execution: a reload changes budgets for the executions that start after it.
        if (_runtime.Options is not { Budgets.Count: > 0 } options)
        {
            return null;
        }

        LlmBudgetExceededException? refusal = _budgets.TryAdmit(options, scene, context);
        if (refusal is not null)
        {
            UsageLog.BudgetExceeded(_logger, refusal.Budget, scene);
        }

        return refusal;
    }

    /// <summary>Accounts for one completed execution; what reaches the sinks is queued, never awaited.</summary>
    public void Complete(ExecutionReport report)
    {
        // Telemetry alone also reports executions; then there is nothing to account for.
        if (!IsActive)
        {
            return;
        }

        (long input, long output, string? model) = report.ReadUsage();
        long tokens = input + output;
        if (_runtime.Options is { Budgets.Count: > 0 } options && tokens > 0)
        {
            _budgets.Count(options, report.Scene, report.Context, tokens);
        }

        decimal? cost = CostOf(model, input, output);
        if (cost is { } spent && spent > 0)
        {
            _cost?.Add(
                (double)spent,
                new KeyValuePair<string, object?>(TelemetryNames.SceneTag, report.Scene),
                new KeyValuePair<string, object?>(TelemetryNames.ModelTag, model));
        }

        if (_queue is null)
        {
            return;
        }

        LlmCallContext? context = report.Context;
        var record = new LlmUsageRecord
        {
            Scene = report.Scene,
            Model = model,
            InputTokens = input,
            OutputTokens = output,
            Cost = cost,
            Duration = report.Duration,
            Result = report.Result,
            Tenant = context?.Tenant,
            User = context?.User,
            Conversation = context?.Conversation,
            Module = context?.Module,
            RequestId = context?.RequestId,
            CallersAnswered = report.Callers,
            TokensSaved = report.Callers > 1 ? tokens * (report.Callers - 1) : 0,
            CompletedAt = report.CompletedAt,
        };

        // Counted before the write, so a flush that starts after this call waits for this record too.
        Interlocked.Increment(ref _written);
        if (!_queue.Writer.TryWrite(record))
        {
            // The runtime was disposed: delivery has stopped.
            CountDropped();
        }
    }

    /// <summary>The cost of the tokens at the model's price, or <see langword="null"/> when the model has none.</summary>
    public decimal? CostOf(string? model, long inputTokens, long outputTokens) =>
        model is not null && _runtime.Options is { Prices.Count: > 0 } options && options.Prices.TryGetValue(model, out LlmModelPrice? price)
            ? ((inputTokens * price.InputPerMillionTokens) + (outputTokens * price.OutputPerMillionTokens)) / 1_000_000m
            : null;

    /// <summary>Waits until every record completed before this call was delivered to the sinks or dropped.</summary>
    internal async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        long target = Interlocked.Read(ref _written);
        while (true)
        {
            Task progress = Volatile.Read(ref _progress).Task;
            if (Interlocked.Read(ref _delivered) + _dropped.Total >= target)
            {
                return;
            }

            await progress.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private void CountDropped()
    {
        bool due = _dropped.Increment(_runtime.TimeProvider, out long sinceLogged, out long total);
        SignalProgress();
        if (due)
        {
            UsageLog.UsageRecordsDropped(_logger, sinceLogged, total);
        }
    }

    private void SignalProgress() =>
        Interlocked.Exchange(ref _progress, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>
    /// Stops taking records and delivers those already queued, for at most <paramref name="timeout"/> on the
    /// runtime's clock; then cancels the sinks' token, so a sink still writing gives up.
    /// </summary>
    public async ValueTask StopAsync(TimeSpan timeout)
    {
        if (_shared is not null)
        {
            await _shared.StopAsync().ConfigureAwait(false);
        }

        if (_queue is null)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _delivering!.WaitAsync(timeout, _runtime.TimeProvider).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _delivery!.CancelAsync().ConfigureAwait(false);
        await _delivering.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _delivery.Dispose();
    }

    // A logging provider that throws must not end delivery: the loop would stop and every later record be dropped.
    private void LogSinkFailure(Exception exception, ILlmUsageSink sink, int batchSize)
    {
        try
        {
            UsageLog.UsageSinkFailed(_logger, exception, sink.GetType().Name, batchSize);
        }
#pragma warning disable CA1031 // See above: nothing a logger does may stop the delivery loop.
        catch
#pragma warning restore CA1031
        {
        }
    }

    // One loop for the runtime's lifetime; nothing it does fails it.
    private async Task DeliverAsync()
    {
        ChannelReader<LlmUsageRecord> reader = _queue!.Reader;
        var batch = new List<LlmUsageRecord>(MaxBatch);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatch && reader.TryRead(out LlmUsageRecord? record))
            {
                batch.Add(record);
            }

            foreach (ILlmUsageSink sink in _sinks)
            {
                try
                {
                    await sink.WriteAsync(batch, _delivery!.Token).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // A sink's failure must not end delivery to it and the other sinks.
                catch (Exception exception)
#pragma warning restore CA1031
                {
                    LogSinkFailure(exception, sink, batch.Count);
                }
            }

            Interlocked.Add(ref _delivered, batch.Count);
            batch.Clear();
            SignalProgress();
        }
    }
}
