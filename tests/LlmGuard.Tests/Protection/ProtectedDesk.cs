using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Protection;

/// <summary>Guarded methods whose scenes the protection tests configure; no other test uses these scenes.</summary>
public partial class ProtectedDesk(GuardRuntime runtime, ScriptedModel model)
{
    public const string Scene = "protected";
    public const string FallbackScene = "protected_fallback";

    [Guarded(Scene = Scene, Key = "{question}", TimeoutMs = 60_000, MaxRetries = 0)]
    public partial Task<string> AskAsync(string question, CancellationToken cancellationToken = default);

    // A second method of the same scene: it shares the scene's breaker and limits.
    [Guarded(Scene = Scene, Key = "{question}", TimeoutMs = 60_000, MaxRetries = 0)]
    public partial Task<string> SummarizeAsync(string question, CancellationToken cancellationToken = default);

    // Retries once after a long pause, so its caller can leave while the execution waits to retry a failed attempt.
    [Guarded(Scene = Scene, Key = "{question}", TimeoutMs = 60_000, MaxRetries = 1, RetryDelayMs = 10_000)]
    public partial Task<string> AskWithRetryAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = FallbackScene, Key = "{question}", TimeoutMs = 60_000, MaxRetries = 0, Fallback = nameof(Busy))]
    public partial Task<string> AskOrBusyAsync(string question, CancellationToken cancellationToken = default);

    public const string BusyReply = "All agents are busy.";

    private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => model.RespondAsync(question, cancellationToken);

    private Task<string> AskWithRetryCoreAsync(string question, CancellationToken cancellationToken) => model.RespondAsync(question, cancellationToken);

    private Task<string> SummarizeCoreAsync(string question, CancellationToken cancellationToken) => model.RespondAsync("summary:" + question, cancellationToken);

    private Task<string> AskOrBusyCoreAsync(string question, CancellationToken cancellationToken) => model.RespondAsync(question, cancellationToken);

    private static string Busy(string question, Exception failure) => BusyReply;

    /// <summary>Options with one scene set as <paramref name="configure"/> says.</summary>
    public static LlmGuardOptions Options(string scene, Action<LlmSceneOptions> configure)
    {
        var settings = new LlmSceneOptions();
        configure(settings);
        return new LlmGuardOptions { Scenes = { [scene] = settings } };
    }
}
