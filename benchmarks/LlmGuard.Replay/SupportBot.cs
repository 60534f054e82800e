using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Replay;

/// <summary>
/// A request to answer a session's conversation as of one revision. One object per trigger: an execution passes its
/// starting caller's object to every attempt, so marking it counts executions however often they retry.
/// </summary>
public sealed class AnswerRequest(int session, int revision)
{
    private int _executed;

    public int Session => session;

    public int Revision => revision;

    public bool MarkExecuted() => Interlocked.Exchange(ref _executed, 1) == 0;
}

/// <summary>The business code of the replay: the guarded methods the generator implements, their cores, one fallback.</summary>
public sealed partial class SupportBot(SimulatedModel model, GuardRuntime runtime)
{
    // Attempts: a 10 s timeout lets the model's slow minority finish (p99 of normal calls is under 3 s) and cuts hangs;
    // two retries with a 500 ms base delay ride out a short 503 spell without keeping a user waiting for long.
    public const int AttemptTimeoutMs = 10_000;
    public const int Retries = 2;
    public const int RetryDelayMs = 500;

    // The merge window closes after 2 s without a new trigger for the session, and never later than 6 s after the
    // first: it catches the duplicates (at most 2 s late) and most typing gaps of a burst (median 1.5 s), and costs an
    // answer at most 6 s of extra wait when a user keeps typing.
    public const int MergeQuietMs = 2_000;
    public const int MergeMaxWaitMs = 6_000;

    private int _executions;
    private int _mergedExecutions;
    private int _fallbacks;

    /// <summary>Executions that reached the model (each has one or more attempts).</summary>
    public int Executions => Volatile.Read(ref _executions);

    /// <summary>Merge windows that closed and ran.</summary>
    public int MergedExecutions => Volatile.Read(ref _mergedExecutions);

    /// <summary>Executions whose attempts all failed and that the fallback answered.</summary>
    public int Fallbacks => Volatile.Read(ref _fallbacks);

    /// <summary>Singleflight: only identical requests (same session, same conversation revision) share a model call.</summary>
    [Guarded(
        Scene = "support_answer",
        Key = "{request.Session}:{request.Revision}",
        TimeoutMs = AttemptTimeoutMs,
        MaxRetries = Retries,
        RetryDelayMs = RetryDelayMs,
        Fallback = nameof(HandOverToAgent))]
    public partial Task<Answer> AnswerAsync(AnswerRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Merge window per session over the singleflight above: a burst of triggers is answered once, for the highest
    /// revision any of them carried. The revisions are appended rather than "latest wins" because a late duplicate of
    /// an older submit can arrive after a newer one; the answer must cover the newest. The attempts, the timeout and
    /// the fallback are <see cref="AnswerAsync"/>'s, so this level has none of its own.
    /// </summary>
    [Guarded(
        Scene = "support_burst",
        Key = "{session}",
        MergeWindowMs = MergeQuietMs,
        MergeMode = MergeMode.Sliding,
        MergeMaxWaitMs = MergeMaxWaitMs,
        TimeoutMs = 0,
        MaxRetries = 0)]
    public partial Task<Answer> AnswerBurstAsync(int session, [MergeAppend] IReadOnlyList<int> revisions, CancellationToken cancellationToken = default);

    private Task<Answer> AnswerCoreAsync(AnswerRequest request, CancellationToken cancellationToken)
    {
        if (request.MarkExecuted())
        {
            Interlocked.Increment(ref _executions);
        }

        return model.CompleteAsync(request.Session, request.Revision, cancellationToken);
    }

    private Task<Answer> AnswerBurstCoreAsync(int session, IReadOnlyList<int> revisions, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _mergedExecutions);
        int newest = 0;
        foreach (int revision in revisions)
        {
            newest = Math.Max(newest, revision);
        }

        return AnswerAsync(new AnswerRequest(session, newest), cancellationToken);
    }

    // The answer a user gets when the model could not answer: a hand-over, for the revision the execution was for.
    private Answer HandOverToAgent(AnswerRequest request, Exception failure)
    {
        Interlocked.Increment(ref _fallbacks);
        return new Answer(request.Session, request.Revision, FromFallback: true);
    }
}
