using System;
using System.Collections.Concurrent;
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

/// <summary>One execution that reached the model: which revision of which session it answered, and when it started.</summary>
public readonly record struct ExecutedRevision(int Session, int Revision, long AtTicks);

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

    // A stored answer serves a duplicate or re-submit of its revision that arrives after its window closed. Those
    // arrive at most 2 s after their submit, and a window closes at most 6 s after its first trigger; the answer is
    // stored when its execution ends, after up to 3 attempts of 10 s. A minute covers all of that with room, and is
    // longer than a turn (median think time 12 s); a newer revision has another key, so the length never makes an
    // answer stale, it only bounds how long an answer is kept.
    public const int AnswerCacheSeconds = 60;

    /// <summary>The scene of <see cref="AnswerBurstCachedAsync"/>, whose window configuration can change.</summary>
    public const string BurstCachedScene = "support_burst_cached";

    private int _executions;
    private int _mergedExecutions;
    private int _fallbacks;
    private readonly ConcurrentQueue<ExecutedRevision> _executed = new();

    /// <summary>Executions that reached the model (each has one or more attempts).</summary>
    public int Executions => Volatile.Read(ref _executions);

    /// <summary>Merge windows that closed and ran.</summary>
    public int MergedExecutions => Volatile.Read(ref _mergedExecutions);

    /// <summary>Executions whose attempts all failed and that the fallback answered.</summary>
    public int Fallbacks => Volatile.Read(ref _fallbacks);

    /// <summary>Every execution that reached the model, to tell afterwards which trigger each one answered.</summary>
    public IReadOnlyCollection<ExecutedRevision> ExecutedRevisions => _executed;

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

    /// <summary>
    /// <see cref="AnswerAsync"/> with its successful answers cached: a later call for the same revision of the same
    /// conversation is answered from <see cref="GuardRuntime.HybridCache"/> without an execution. The key holds the
    /// revision, so a cached answer is only ever served for the revision it was computed from; the conversation
    /// (<c>{$conversation}</c>, from the caller's <see cref="LlmCallContext"/>) keeps it inside that conversation.
    /// </summary>
    [Guarded(
        Scene = "support_answer_cached",
        Key = "{$conversation}:{request.Session}:{request.Revision}",
        CacheSeconds = AnswerCacheSeconds,
        TimeoutMs = AttemptTimeoutMs,
        MaxRetries = Retries,
        RetryDelayMs = RetryDelayMs,
        Fallback = nameof(HandOverToAgent))]
    public partial Task<Answer> AnswerCachedAsync(AnswerRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="AnswerBurstAsync"/> over <see cref="AnswerCachedAsync"/>: the same merge window, whose execution is
    /// answered from the cache when its newest revision was already answered (a duplicate that arrived after the
    /// window of its submit closed). The window's execution runs in the latest caller's <see cref="LlmCallContext"/>,
    /// which names the conversation the cache key needs.
    /// </summary>
    [Guarded(
        Scene = BurstCachedScene,
        Key = "{session}",
        MergeWindowMs = MergeQuietMs,
        MergeMode = MergeMode.Sliding,
        MergeMaxWaitMs = MergeMaxWaitMs,
        TimeoutMs = 0,
        MaxRetries = 0)]
    public partial Task<Answer> AnswerBurstCachedAsync(int session, [MergeAppend] IReadOnlyList<int> revisions, CancellationToken cancellationToken = default);

    private Task<Answer> AnswerCoreAsync(AnswerRequest request, CancellationToken cancellationToken)
    {
        if (request.MarkExecuted())
        {
            Interlocked.Increment(ref _executions);
            _executed.Enqueue(new ExecutedRevision(request.Session, request.Revision, runtime.TimeProvider.GetTimestamp()));
        }

        return model.CompleteAsync(request.Session, request.Revision, cancellationToken);
    }

    private Task<Answer> AnswerCachedCoreAsync(AnswerRequest request, CancellationToken cancellationToken) =>
        AnswerCoreAsync(request, cancellationToken);

    private Task<Answer> AnswerBurstCoreAsync(int session, IReadOnlyList<int> revisions, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _mergedExecutions);
        return AnswerAsync(new AnswerRequest(session, Newest(revisions)), cancellationToken);
    }

    private Task<Answer> AnswerBurstCachedCoreAsync(int session, IReadOnlyList<int> revisions, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _mergedExecutions);
        return AnswerCachedAsync(new AnswerRequest(session, Newest(revisions)), cancellationToken);
    }

    private static int Newest(IReadOnlyList<int> revisions)
    {
        int newest = 0;
        foreach (int revision in revisions)
        {
            newest = Math.Max(newest, revision);
        }

        return newest;
    }

    // The answer a user gets when the model could not answer: a hand-over, for the revision the execution was for.
    private Answer HandOverToAgent(AnswerRequest request, Exception failure)
    {
        Interlocked.Increment(ref _fallbacks);
        return new Answer(request.Session, request.Revision, FromFallback: true);
    }
}
