using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Replay;

/// <summary>
/// A question to the help desk, against one version of the tenant's FAQ content. One object per trigger: an execution
/// passes its starting caller's object to every attempt, so marking it counts executions however often they retry.
/// </summary>
public sealed class FaqRequest(int question, int contentVersion)
{
    private int _executed;

    public int Question => question;

    public int ContentVersion => contentVersion;

    public bool MarkExecuted() => Interlocked.Exchange(ref _executed, 1) == 0;
}

/// <summary>
/// An answer of the help desk, and what it was computed for: the tenant, the user (personal answers only), the
/// question and the FAQ content version.
/// </summary>
public sealed record FaqAnswer(string Tenant, string? User, bool Personal, int Question, int ContentVersion, bool FromFallback);

/// <summary>
/// The business code of the FAQ replay: who asks comes from <see cref="LlmCallContext"/> (tenant and user), as a web
/// endpoint would set it. A generic FAQ answer depends on the tenant's content only and is shared inside the tenant; a
/// personal answer depends on the user's own data and is shared only with that user.
/// </summary>
public sealed partial class FaqDesk(SimulatedModel model, GuardRuntime runtime)
{
    // Generic answers are kept an hour: the content version is in the key, so an update is never answered from an
    // older entry, and the hour only bounds how long an unasked answer takes memory. The largest tenant's most popular
    // question comes about every 8 s and the smallest tenant's every 100 s; the tail of the catalogue far less often.
    public const int FaqCacheSeconds = 3_600;

    // Personal answers quote the user's own data (an order's status, a refund), which changes outside the FAQ content;
    // two minutes cover the duplicates and re-asks of a visit (think time median 20 s) and keep what a user is told at
    // most two minutes behind their account. Changes of personal data are not modelled by the trace.
    public const int PersonalCacheSeconds = 120;

    private int _executions;
    private int _fallbacks;
    private readonly ConcurrentQueue<ExecutedFaqAnswer> _executed = new();

    /// <summary>Executions that reached the model (each has one or more attempts).</summary>
    public int Executions => Volatile.Read(ref _executions);

    /// <summary>Executions whose attempts all failed and that the fallback answered.</summary>
    public int Fallbacks => Volatile.Read(ref _fallbacks);

    /// <summary>Every execution that reached the model, to tell afterwards why each one ran.</summary>
    public IReadOnlyCollection<ExecutedFaqAnswer> ExecutedAnswers => _executed;

    /// <summary>An FAQ question, shared by every user of the tenant asking it against the same content.</summary>
    [Guarded(
        Scene = "faq_answer",
        Key = "{$tenant}:{request.Question}:{request.ContentVersion}",
        TimeoutMs = SupportBot.AttemptTimeoutMs,
        MaxRetries = SupportBot.Retries,
        RetryDelayMs = SupportBot.RetryDelayMs,
        Fallback = nameof(HandOver))]
    public partial Task<FaqAnswer> AnswerFaqAsync(FaqRequest request, CancellationToken cancellationToken = default);

    /// <summary><see cref="AnswerFaqAsync"/> with its answers cached per tenant, question and content version.</summary>
    [Guarded(
        Scene = "faq_answer_cached",
        Key = "{$tenant}:{request.Question}:{request.ContentVersion}",
        CacheSeconds = FaqCacheSeconds,
        TimeoutMs = SupportBot.AttemptTimeoutMs,
        MaxRetries = SupportBot.Retries,
        RetryDelayMs = SupportBot.RetryDelayMs,
        Fallback = nameof(HandOver))]
    public partial Task<FaqAnswer> AnswerFaqCachedAsync(FaqRequest request, CancellationToken cancellationToken = default);

    /// <summary>A personal question: shared only by the same user asking it against the same content.</summary>
    [Guarded(
        Scene = "faq_personal",
        Key = "{$tenant}:{$user}:{request.Question}:{request.ContentVersion}",
        TimeoutMs = SupportBot.AttemptTimeoutMs,
        MaxRetries = SupportBot.Retries,
        RetryDelayMs = SupportBot.RetryDelayMs,
        Fallback = nameof(HandOverPersonal))]
    public partial Task<FaqAnswer> AnswerPersonalAsync(FaqRequest request, CancellationToken cancellationToken = default);

    /// <summary><see cref="AnswerPersonalAsync"/> with its answers cached per user.</summary>
    [Guarded(
        Scene = "faq_personal_cached",
        Key = "{$tenant}:{$user}:{request.Question}:{request.ContentVersion}",
        CacheSeconds = PersonalCacheSeconds,
        TimeoutMs = SupportBot.AttemptTimeoutMs,
        MaxRetries = SupportBot.Retries,
        RetryDelayMs = SupportBot.RetryDelayMs,
        Fallback = nameof(HandOverPersonal))]
    public partial Task<FaqAnswer> AnswerPersonalCachedAsync(FaqRequest request, CancellationToken cancellationToken = default);

    /// <summary>The model call both kinds of question make; what it depends on is the whole difference between them.</summary>
    public static async Task<FaqAnswer> AskModelAsync(SimulatedModel model, string tenant, string? user, bool personal, int question, int contentVersion, CancellationToken cancellationToken)
    {
        // The model's draws depend on the request it is sent (the tenant's question, or the user's), through a hash that
        // is the same in every process, unlike string.GetHashCode.
        int request = personal ? ~(StableHash(user!) * 31 + question) : StableHash(tenant) * 31 + question;
        await model.CallAsync(request, contentVersion, cancellationToken).ConfigureAwait(false);
        return new FaqAnswer(tenant, personal ? user : null, personal, question, contentVersion, FromFallback: false);
    }

    private Task<FaqAnswer> AnswerFaqCoreAsync(FaqRequest request, CancellationToken cancellationToken) =>
        Execute(request, personal: false, cancellationToken);

    private Task<FaqAnswer> AnswerFaqCachedCoreAsync(FaqRequest request, CancellationToken cancellationToken) =>
        Execute(request, personal: false, cancellationToken);

    private Task<FaqAnswer> AnswerPersonalCoreAsync(FaqRequest request, CancellationToken cancellationToken) =>
        Execute(request, personal: true, cancellationToken);

    private Task<FaqAnswer> AnswerPersonalCachedCoreAsync(FaqRequest request, CancellationToken cancellationToken) =>
        Execute(request, personal: true, cancellationToken);

    // FNV-1a over the UTF-16 code units.
    private static int StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 16777619;
        }

        return (int)hash;
    }

    // The execution runs in the context of the caller that started it: its tenant and user are whom the answer is for.
    private Task<FaqAnswer> Execute(FaqRequest request, bool personal, CancellationToken cancellationToken)
    {
        LlmCallContext context = LlmCallContext.Current ?? throw new InvalidOperationException("A help-desk call runs inside the caller's LlmCallContext.");
        if (request.MarkExecuted())
        {
            Interlocked.Increment(ref _executions);
            _executed.Enqueue(new ExecutedFaqAnswer(context.Tenant!, personal ? context.User : null, personal, request.Question, request.ContentVersion, runtime.TimeProvider.GetTimestamp()));
        }

        return AskModelAsync(model, context.Tenant!, context.User, personal, request.Question, request.ContentVersion, cancellationToken);
    }

    // The answer a user gets when the model could not answer: a hand-over, for whom the execution was for.
    private FaqAnswer HandOver(FaqRequest request, Exception failure) => HandOverFor(request, personal: false);

    private FaqAnswer HandOverPersonal(FaqRequest request, Exception failure) => HandOverFor(request, personal: true);

    private FaqAnswer HandOverFor(FaqRequest request, bool personal)
    {
        Interlocked.Increment(ref _fallbacks);
        LlmCallContext? context = LlmCallContext.Current;
        return new FaqAnswer(context?.Tenant ?? "", personal ? context?.User : null, personal, request.Question, request.ContentVersion, FromFallback: true);
    }
}
