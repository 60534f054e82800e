using System;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard;

namespace AotConsole;

/// <summary>
/// Guarded methods of a class, one per behaviour the program checks. The cores stand in for model calls and count
/// what reached them; the timings are tens of milliseconds so the whole run takes well under a second.
/// </summary>
public sealed partial class SupportDesk(GuardRuntime runtime)
{
    private readonly TaskCompletionSource _answersMayFinish = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _answerExecutions;
    private int _burstExecutions;
    private string? _burstMessagesSeen;
    private int _burstMessageIdSeen;
    private int _summaryAttempts;
    private int _summaryTimeouts;
    private int _urgencyAttempts;

    public GuardRuntime Runtime => runtime;

    public int AnswerExecutions => Volatile.Read(ref _answerExecutions);

    public int BurstExecutions => Volatile.Read(ref _burstExecutions);

    public string? BurstMessagesSeen => Volatile.Read(ref _burstMessagesSeen);

    public int BurstMessageIdSeen => Volatile.Read(ref _burstMessageIdSeen);

    public int SummaryAttempts => Volatile.Read(ref _summaryAttempts);

    public int SummaryTimeouts => Volatile.Read(ref _summaryTimeouts);

    public int UrgencyAttempts => Volatile.Read(ref _urgencyAttempts);

    /// <summary>Singleflight: concurrent calls for one session and question share one execution.</summary>
    [Guarded(Scene = "aot_answer", Key = "{sessionId}:{question}", TimeoutMs = 1000, MaxRetries = 0)]
    public partial Task<string> AnswerAsync(string sessionId, string question, CancellationToken cancellationToken = default);

    /// <summary>
    /// Merge window: a burst of messages within 100 ms is answered once; the model sees every message in order
    /// (<see cref="MergeAppendAttribute"/>) and the latest call's other arguments.
    /// </summary>
    [Guarded(Scene = "aot_burst", Key = "{sessionId}", MergeWindowMs = 100, TimeoutMs = 1000, MaxRetries = 0)]
    public partial Task<string> ReplyToBurstAsync(string sessionId, [MergeAppend(Separator = " / ")] string messages, [NotInKey] int lastMessageId, CancellationToken cancellationToken = default);

    /// <summary>Timeout and retry: an attempt that hangs is cancelled after 50 ms and the retry answers.</summary>
    [Guarded(Scene = "aot_summary", Key = "{ticketId}", TimeoutMs = 50, MaxRetries = 2, RetryDelayMs = 10)]
    public partial Task<string> SummarizeAsync(string ticketId, CancellationToken cancellationToken = default);

    /// <summary>Fallback: the model is down for every attempt, so the fallback answers.</summary>
    [Guarded(Scene = "aot_urgency", Key = "{ticketId}", TimeoutMs = 1000, MaxRetries = 2, RetryDelayMs = 10, Fallback = nameof(HandOver))]
    public partial Task<string> RateUrgencyAsync(string ticketId, CancellationToken cancellationToken = default);

    /// <summary>Lets the executions of <see cref="AnswerAsync"/> finish; until then every caller has to wait.</summary>
    public void LetAnswersFinish() => _answersMayFinish.TrySetResult();

    private async Task<string> AnswerCoreAsync(string sessionId, string question, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _answerExecutions);
        await _answersMayFinish.Task.WaitAsync(cancellationToken);
        return $"answer to '{question}' in {sessionId}";
    }

    private Task<string> ReplyToBurstCoreAsync(string sessionId, string messages, int lastMessageId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _burstExecutions);
        Volatile.Write(ref _burstMessagesSeen, messages);
        Volatile.Write(ref _burstMessageIdSeen, lastMessageId);
        return Task.FromResult($"one reply to {sessionId} up to message {lastMessageId}");
    }

    private async Task<string> SummarizeCoreAsync(string ticketId, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _summaryAttempts) == 1)
        {
            try
            {
                // The first attempt hangs, as a model sometimes does, until the attempt timeout cancels it.
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _summaryTimeouts);
                throw;
            }
        }

        return $"summary of {ticketId}";
    }

    private Task<string> RateUrgencyCoreAsync(string ticketId, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _urgencyAttempts);
        throw new HttpRequestException("The model is overloaded.", null, HttpStatusCode.ServiceUnavailable);
    }

    private static string HandOver(string ticketId, Exception failure) =>
        $"{ticketId} handed to a human ({failure.GetType().Name} {(int?)(failure as HttpRequestException)?.StatusCode})";
}
