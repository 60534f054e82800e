using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Guarded;

/// <summary>The answer a model gives; a class, so tests can see whether callers share one instance.</summary>
public sealed class Reply(string text)
{
    public string Text { get; } = text;
}

/// <summary>A support assistant: the runtime arrives through a primary-constructor parameter.</summary>
public partial class Assistant(GuardRuntime runtime, ScriptedModel model)
{
    [Guarded(TimeoutMs = 1000, MaxRetries = 2, RetryDelayMs = 0)]
    public partial Task<Reply> AskAsync(string sessionId, string question, CancellationToken cancellationToken = default);

    [Guarded(Key = "{sessionId}", TimeoutMs = 1000, MaxRetries = 2, RetryDelayMs = 0)]
    public partial Task<Reply> AskInSessionAsync(string sessionId, [NotInKey] string question, CancellationToken cancellationToken = default);

    [Guarded(TimeoutMs = 0, MaxRetries = 1, RetryDelayMs = 1000)]
    public partial Task<Reply> AskWithBackoffAsync(string sessionId, CancellationToken cancellationToken = default);

    [Guarded(SingleFlight = false, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<Reply> AskAloneAsync(string sessionId, CancellationToken cancellationToken = default);

    private async Task<Reply> AskCoreAsync(string sessionId, string question, CancellationToken cancellationToken) =>
        new(await model.RespondAsync(sessionId + "|" + question, cancellationToken));

    private async Task<Reply> AskInSessionCoreAsync(string sessionId, string question, CancellationToken cancellationToken) =>
        new(await model.RespondAsync(sessionId + "|" + question, cancellationToken));

    private async Task<Reply> AskWithBackoffCoreAsync(string sessionId, CancellationToken cancellationToken) =>
        new(await model.RespondAsync(sessionId, cancellationToken));

    private async Task<Reply> AskAloneCoreAsync(string sessionId, CancellationToken cancellationToken) =>
        new(await model.RespondAsync(sessionId, cancellationToken));
}

/// <summary>An assistant with a fallback that apologises; the runtime is a field.</summary>
public partial class ApologeticAssistant(GuardRuntime runtime, ScriptedModel model)
{
    private readonly GuardRuntime _runtime = runtime;

    public int Fallbacks;

    public Exception? LastFailure;

    [Guarded(TimeoutMs = 1000, MaxRetries = 1, RetryDelayMs = 0, Fallback = nameof(Apologize))]
    public partial Task<Reply> AskAsync(string sessionId, CancellationToken cancellationToken = default);

    private async Task<Reply> AskCoreAsync(string sessionId, CancellationToken cancellationToken) =>
        new(await model.RespondAsync(sessionId, cancellationToken));

    private Reply Apologize(string sessionId, Exception exception)
    {
        Interlocked.Increment(ref Fallbacks);
        LastFailure = exception;
        return new Reply($"Sorry, {sessionId}: {exception.GetType().Name}");
    }
}

/// <summary>A core that throws from its own frame once the model answers "fail".</summary>
public partial class FailingAssistant(GuardRuntime runtime, ScriptedModel model)
{
    private readonly GuardRuntime _runtime = runtime;

    [Guarded(TimeoutMs = 0, MaxRetries = 2, RetryDelayMs = 0)]
    public partial Task<Reply> AskAsync(string sessionId, CancellationToken cancellationToken = default);

    [Guarded(TimeoutMs = 0, MaxRetries = 2, RetryDelayMs = 0)]
    public partial Task<Reply> ValidateAsync(string sessionId);

    private async Task<Reply> AskCoreAsync(string sessionId, CancellationToken cancellationToken)
    {
        string answer = await model.RespondAsync(sessionId, cancellationToken);
        throw new ProviderRejectedException("the provider rejected the prompt: " + answer);
    }

    // Throws before it returns a task, as a synchronous argument check would.
    private Task<Reply> ValidateCoreAsync(string sessionId) =>
        throw new ArgumentException("a session id must not be blank", nameof(sessionId));
}

public sealed class ProviderRejectedException(string message) : Exception(message);

/// <summary>A core that, by mistake, calls its own guarded method with the same key.</summary>
public partial class RecursiveAssistant(GuardRuntime runtime)
{
    private readonly GuardRuntime _runtime = runtime;

    [Guarded(TimeoutMs = 0, MaxRetries = 2, RetryDelayMs = 0)]
    public partial Task<string> AskAsync(string sessionId, bool yieldFirst);

    private async Task<string> AskCoreAsync(string sessionId, bool yieldFirst)
    {
        if (yieldFirst)
        {
            await Task.Yield();
        }

        return await AskAsync(sessionId, yieldFirst);
    }
}

/// <summary>Task and ValueTask shapes, on a static runtime member.</summary>
public static partial class Notifications
{
    public static GuardRuntime? Runtime { get; set; }

    public static ScriptedModel? Model { get; set; }

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public static partial Task NotifyAsync(string ticketId, CancellationToken cancellationToken = default);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public static partial ValueTask<int> CountAsync(string queue);

    private static async Task NotifyCoreAsync(string ticketId, CancellationToken cancellationToken) =>
        await Model!.RespondAsync(ticketId, cancellationToken);

    private static async ValueTask<int> CountCoreAsync(string queue) =>
        int.Parse(await Model!.RespondAsync(queue, CancellationToken.None), System.Globalization.CultureInfo.InvariantCulture);
}
