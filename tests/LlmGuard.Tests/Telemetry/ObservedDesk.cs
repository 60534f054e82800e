using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Execution;
using LlmGuard.Infrastructure;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded;

namespace LlmGuard.Tests.Telemetry;

/// <summary>A help desk whose guarded methods cover each telemetry path: shared, merged, with fallback, alone.</summary>
public partial class ObservedDesk(GuardRuntime runtime, ScriptedModel model)
{
    /// <summary>The report the last execution of <see cref="AskAsync"/> ran with, as its core saw it.</summary>
    internal ExecutionReport? LastReport;

    [Guarded(Scene = "desk", Key = "{question}", TimeoutMs = 1000, MaxRetries = 1, RetryDelayMs = 0)]
    public partial Task<Reply> AskAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = "desk_fallback", Key = "{question}", TimeoutMs = 0, MaxRetries = 0, Fallback = nameof(Apologize))]
    public partial Task<Reply> AskOrApologizeAsync(string question);

    [Guarded(Scene = "desk_merge", Key = "{session}", MergeWindowMs = 1000, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<Reply> ReplyAsync(string session, [NotInKey] string message);

    [Guarded(Scene = "desk_alone", SingleFlight = false, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<Reply> AskAloneAsync(string question);

    [Guarded(Scene = "desk_tokens", Key = "{question}", TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<Reply> AskCountedAsync(string question);

    [Guarded(Scene = "desk_latest", Key = "{session}", MergeWindowMs = 1000, Supersede = true, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<Reply> ReplyLatestAsync(string session, [NotInKey] string message, CancellationToken cancellationToken = default);

    private async Task<Reply> ReplyLatestCoreAsync(string session, string message, CancellationToken cancellationToken)
    {
        string answer = await model.RespondAsync(message, cancellationToken);
        ExecutionReport report = ExecutingFlights.Innermost!.Report!;
        report.InputTokens = 30;
        report.OutputTokens = 5;
        return new Reply(answer);
    }

    [Guarded(Scene = "desk_quick", Key = "{question}", TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<Reply> AskQuicklyAsync(string question, CancellationToken cancellationToken = default);

    // Answers on another thread at once, so joins, leaves and the answer race for real.
    private async Task<Reply> AskQuicklyCoreAsync(string question, CancellationToken cancellationToken)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        return new Reply(question);
    }

    [Guarded(Scene = "desk_latest_quick", Key = "{session}", MergeWindowMs = 100, Supersede = true, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<Reply> ReplyLatestQuicklyAsync(string session, [NotInKey] string message, CancellationToken cancellationToken = default);

    private async Task<Reply> ReplyLatestQuicklyCoreAsync(string session, string message, CancellationToken cancellationToken)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        ExecutionReport report = ExecutingFlights.Innermost!.Report!;
        report.InputTokens = 30;
        report.OutputTokens = 5;
        return new Reply(message);
    }

    private async Task<Reply> AskCoreAsync(string question, CancellationToken cancellationToken)
    {
        string answer = await model.RespondAsync(question, cancellationToken);
        LastReport = ExecutingFlights.Innermost?.Report;
        return new Reply(answer);
    }

    private async Task<Reply> AskOrApologizeCoreAsync(string question) =>
        new(await model.RespondAsync(question, CancellationToken.None));

    private static Reply Apologize(string question, Exception failure) => new("Sorry, a human will answer.");

    private async Task<Reply> ReplyCoreAsync(string session, string message) =>
        new(await model.RespondAsync(session + "|" + message, CancellationToken.None));

    private async Task<Reply> AskAloneCoreAsync(string question) =>
        new(await model.RespondAsync(question, CancellationToken.None));

    // Stands in for the usage reader, which fills the report of the execution the core runs in.
    private async Task<Reply> AskCountedCoreAsync(string question)
    {
        string answer = await model.RespondAsync(question, CancellationToken.None);
        ExecutionReport report = ExecutingFlights.Innermost!.Report!;
        report.Model = "model-a";
        report.InputTokens = 100;
        report.OutputTokens = 20;
        return new Reply(answer);
    }
}
