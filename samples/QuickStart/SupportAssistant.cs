using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard;

namespace QuickStart;

/// <summary>One user message in a support chat.</summary>
public sealed record ChatTurn(string SessionId, int TurnNumber, string Text);

/// <summary>The business code: one guarded method, one core that calls the model, one fallback.</summary>
public sealed partial class SupportAssistant(SimulatedModel model)
{
    // Each execution gets the ChatTurn of the call that started it, for all of its attempts: counting the
    // distinct ones counts executions, whatever the retries.
    private readonly ConcurrentDictionary<ChatTurn, bool> _executions = new(ReferenceEqualityComparer.Instance);
    private int _fallbacks;

    public int Executions => _executions.Count;

    public int Fallbacks => Volatile.Read(ref _fallbacks);

    [Guarded(
        Scene = "support_reply",
        Key = "{turn.SessionId}:{turn.TurnNumber}",
        TimeoutMs = 1000,
        MaxRetries = 2,
        RetryDelayMs = 50,
        Fallback = nameof(HandOverToAgent))]
    public partial Task<string> ReplyAsync(ChatTurn turn, CancellationToken cancellationToken = default);

    private async Task<string> ReplyCoreAsync(ChatTurn turn, CancellationToken cancellationToken)
    {
        _executions.TryAdd(turn, true);
        return await model.CompleteAsync($"You are a support agent. Answer briefly.\nUser: {turn.Text}", cancellationToken);
    }

    private string HandOverToAgent(ChatTurn turn, CancellationToken cancellationToken, Exception failure)
    {
        Interlocked.Increment(ref _fallbacks);
        return $"Sorry, I could not answer that right now ({failure.GetType().Name}); a human agent will reply in {turn.SessionId}.";
    }
}
