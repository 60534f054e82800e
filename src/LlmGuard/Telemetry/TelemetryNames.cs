namespace LlmGuard.Telemetry;

/// <summary>
/// The names dashboards, alerts and exporters see: the meter, the activity source, the instruments and their tags.
/// They are wire names, so they never change once shipped.
/// </summary>
internal static class TelemetryNames
{
    /// <summary>The name of the meter and of the activity source, and the logger category.</summary>
    public const string Source = "LlmGuard";

    public const string Calls = "llmguard.calls";
    public const string Executions = "llmguard.executions";
    public const string Attempts = "llmguard.attempts";
    public const string CallDuration = "llmguard.call.duration";
    public const string ExecutionDuration = "llmguard.execution.duration";
    public const string TokenUsage = "gen_ai.client.token.usage";
    public const string TokensSaved = "llmguard.tokens.saved";
    public const string Cost = "llmguard.cost";
    public const string Rejections = "llmguard.rejections";
    public const string BreakerState = "llmguard.breaker.state";
    public const string Fallbacks = "llmguard.fallbacks";
    public const string StreamFirstItemDuration = "llmguard.stream.first_item.duration";

    public const string SceneTag = "llmguard.scene";
    public const string OutcomeTag = "llmguard.outcome";
    public const string ResultTag = "llmguard.result";
    public const string AttemptResultTag = "llmguard.attempt.result";
    public const string TenantTag = "llmguard.tenant";
    public const string TokenTypeTag = "gen_ai.token.type";
    public const string ModelTag = "gen_ai.request.model";
    public const string AttemptNumberTag = "llmguard.attempt.number";
    public const string RejectionReasonTag = "llmguard.rejection.reason";
    public const string FallbackTag = "llmguard.fallback";

    /// <summary>The <c>llmguard.fallback</c> of an answer from a plain fallback method; a guarded one is named by its scene.</summary>
    public const string PlainFallback = "method";
}

/// <summary>What refused an execution: the values of <c>llmguard.rejection.reason</c>.</summary>
internal static class RejectionReasons
{
    public const string Breaker = "breaker";
    public const string Limit = "limit";
    public const string Budget = "budget";
}

/// <summary>How a caller got its answer: the values of <c>llmguard.outcome</c>.</summary>
internal static class CallOutcomes
{
    public const string Executed = "executed";
    public const string Joined = "joined";
    public const string Merged = "merged";
    public const string Cached = "cached";
}

/// <summary>How a call or an execution ended: the values of <c>llmguard.result</c>.</summary>
internal static class CallResults
{
    public const string Success = "success";
    public const string Fallback = "fallback";
    public const string Error = "error";
    public const string Cancelled = "cancelled";
    public const string Rejected = "rejected";
}

/// <summary>How one attempt ended: the values of <c>llmguard.attempt.result</c>.</summary>
internal static class AttemptResults
{
    public const string Success = "success";
    public const string Timeout = "timeout";
    public const string Transient = "transient";
    public const string Failure = "failure";
}
