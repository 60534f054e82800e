using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard;
using LlmGuard.Protection;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace TicketDesk.Help;

/// <summary>
/// Answers customers' questions about the shop, degrading in four levels when the models misbehave or the traffic
/// outgrows them: the primary model, a smaller model, a static "busy" reply, and shedding. Every threshold is
/// configuration: the scenes <c>answer_primary</c> and <c>answer_small</c> and the model profiles <c>normal</c> and
/// <c>fast</c> under <c>LlmGuard</c> in appsettings.json.
/// </summary>
public sealed partial class HelpDesk(
    [FromKeyedServices("normal")] IChatClient normal,
    [FromKeyedServices("fast")] IChatClient fast,
    GuardRuntime runtime)
{
    private const string Instructions =
        "You answer customers' questions about an online shop's orders, deliveries and refunds in one or two sentences.";

    private const string BusyText = "We're busy right now; an agent will reply to your question shortly.";

    private const string ShedText = "We're receiving more questions than we can answer; please try again in a moment.";

    /// <summary>
    /// Level 1, the primary model. Customers wait for a help answer while they type, so it gets 800 ms and no retry:
    /// a retry would double the wait the smaller model answers within. A timeout, a failure, an open breaker or a full
    /// queue of this scene sends the question to <see cref="AnswerWithSmallModelAsync"/>. Identical questions of one
    /// tenant in flight share one execution.
    /// </summary>
    [Guarded(
        Scene = "answer_primary",
        Key = "{$tenant}:{question}",
        TimeoutMs = 800,
        MaxRetries = 0,
        Fallback = nameof(AnswerWithSmallModelAsync))]
    public partial Task<HelpAnswer> AnswerAsync(string question, CancellationToken cancellationToken = default);

    /// <summary>
    /// Level 2, the smaller model: faster and cheaper, so it also takes the overflow of a saturated primary. It has its
    /// own scene, so its own timeout, retry, breaker and bounds; when it cannot answer, <see cref="BusyReply"/> does.
    /// </summary>
    [Guarded(
        Scene = "answer_small",
        Key = "{$tenant}:{question}",
        TimeoutMs = 3000,
        MaxRetries = 1,
        RetryDelayMs = 200,
        Fallback = nameof(BusyReply))]
    public partial Task<HelpAnswer> AnswerWithSmallModelAsync(string question, CancellationToken cancellationToken = default);

    private async Task<HelpAnswer> AnswerCoreAsync(string question, CancellationToken cancellationToken)
    {
        ChatResponse response = await normal.GetResponseAsync(
            [new ChatMessage(ChatRole.System, Instructions), new ChatMessage(ChatRole.User, question)],
            new ChatOptions { MaxOutputTokens = 200 },
            cancellationToken);
        return new HelpAnswer(response.Text, HelpAnswer.Primary) { Usage = response.Usage, ModelId = response.ModelId };
    }

    private async Task<HelpAnswer> AnswerWithSmallModelCoreAsync(string question, CancellationToken cancellationToken)
    {
        ChatResponse response = await fast.GetResponseAsync(
            [new ChatMessage(ChatRole.System, Instructions), new ChatMessage(ChatRole.User, question)],
            new ChatOptions { MaxOutputTokens = 120 },
            cancellationToken);
        return new HelpAnswer(response.Text, HelpAnswer.Small) { Usage = response.Usage, ModelId = response.ModelId };
    }

    /// <summary>
    /// Levels 3 and 4, which call no model and cannot fail. The smaller model's scene refusing the question for its
    /// concurrency or rate limit means the service is overloaded, and the question was shed: no model was asked for it.
    /// Anything else (both models failing, an open breaker, a spent budget) gets the static reply.
    /// </summary>
    private static HelpAnswer BusyReply(string question, CancellationToken cancellationToken, Exception failure) =>
        failure is LlmLimitExceededException
            ? new HelpAnswer(ShedText, HelpAnswer.Shed)
            : new HelpAnswer(BusyText, HelpAnswer.Static);
}
