using System;

namespace LlmGuard.Replay;

/// <summary>What one way of replaying the trace cost and what its callers saw.</summary>
/// <param name="ModelCalls">Calls that reached the model, every attempt included.</param>
/// <param name="Executions">Executions that reached the model (a retry is not a new execution); for the unguarded way, its calls.</param>
/// <param name="MergeWindows">Merge windows that closed and ran (merge way only).</param>
/// <param name="ExtraExecutions">Chat ways: why executions went beyond one per turn; empty for the unguarded way and the FAQ traffic.</param>
/// <param name="FaqExecutions">FAQ traffic: why each execution ran; empty for the chat traffic.</param>
/// <param name="StaleResults">Callers whose answer was computed from a conversation revision older than their own.</param>
/// <param name="CrossTenant">FAQ traffic: callers answered with an answer computed for another tenant.</param>
/// <param name="CrossUser">FAQ traffic: callers of a personal question answered with an answer computed for another user.</param>
/// <param name="CacheHits">Calls of a cached guarded method answered from the cache, without an execution.</param>
/// <param name="AttemptFailures">Model calls that failed: what callers would have seen without retries and fallback.</param>
/// <param name="CallerFailures">Callers whose call ended in an exception, after retries and fallback.</param>
/// <param name="FallbackAnswers">Callers answered by the fallback.</param>
/// <param name="FallbackExecutions">Executions answered by the fallback.</param>
/// <param name="UnfinishedCallers">Callers still waiting when nothing was left to happen: must be 0.</param>
public sealed record WayResult(
    ReplayWay Way,
    int Triggers,
    int ModelCalls,
    int Executions,
    int MergeWindows,
    ExtraExecutions ExtraExecutions,
    FaqExecutions FaqExecutions,
    LatencyPercentiles Latency,
    int StaleResults,
    int CrossTenant,
    int CrossUser,
    int CacheHits,
    int AttemptFailures,
    int CallerFailures,
    int FallbackAnswers,
    int FallbackExecutions,
    int UnfinishedCallers,
    TimeSpan VirtualDuration,
    TimeSpan WallTime,
    long Steps);
