using LlmGuard.Execution;
using Polly;

namespace LlmGuard.Telemetry;

/// <summary>
/// Where an execution publishes its <see cref="ExecutionReport"/>, so that every caller it answers can read how it
/// ended: the singleflight flight or merge window it runs in, or the one caller of an unshared call.
/// </summary>
internal interface IReportedExecution
{
    /// <summary>
    /// Gets the report of the execution that answered this one's callers (after a supersede, the newer window's), or
    /// <see langword="null"/> when nothing observed it; set by the execution when it starts.
    /// </summary>
    ExecutionReport? Report { get; set; }

    /// <summary>Gets whether a newer execution took this one's callers over (a merge window's supersede).</summary>
    bool WasTakenOver { get; }
}

/// <summary>The report target of a call that shares its execution with nobody.</summary>
internal sealed class UnsharedExecution : IReportedExecution
{
    public ExecutionReport? Report { get; set; }

    public bool WasTakenOver => false;
}

/// <summary>What the attempts of one observed execution need to report on themselves, carried in Polly's context.</summary>
internal sealed class ExecutionObservation
{
    public static readonly ResiliencePropertyKey<ExecutionObservation> Key = new("LlmGuard.Execution");

    private readonly string? _key;
    private string? _keyHash;

    public ExecutionObservation(GuardTelemetry telemetry, ExecutionReport report, string? key)
    {
        Telemetry = telemetry;
        Report = report;
        _key = key;
    }

    public GuardTelemetry Telemetry { get; }

    public ExecutionReport Report { get; }

    /// <summary>Gets the number of attempts started so far.</summary>
    public int Attempts { get; set; }

    /// <summary>
    /// Gets or sets whether the execution got past its budget, limits and breaker to its attempts: a refusal after that
    /// was raised inside the core (say, by another guarded method it called), not by this execution's protection.
    /// </summary>
    public bool AttemptsStarted { get; set; }

    /// <summary>Gets the key as logs show it, computed on the first log line; <see langword="null"/> for an unshared call, which has no key.</summary>
    public string? KeyHash => _key is null ? null : _keyHash ??= LlmGuard.Telemetry.KeyHash.Of(_key);

    public static string? KeyHashOf(ResilienceContext context) =>
        context.Properties.TryGetValue(Key, out ExecutionObservation? observation) ? observation.KeyHash : null;
}
