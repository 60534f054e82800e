using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Configuration;

/// <summary>Guarded methods whose scenes the configuration tests override; no other test uses these scenes.</summary>
public partial class ConfiguredAssistant(GuardRuntime runtime, ScriptedModel model)
{
    public const string ReplyScene = "config_reply";
    public const string MergeScene = "config_merge";
    public const string SlidingScene = "config_sliding";

    [Guarded(Scene = ReplyScene, TimeoutMs = 1000, MaxRetries = 0)]
    public partial Task<string> AskAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = MergeScene, Key = "{user}", TimeoutMs = 0, MaxRetries = 0, MergeWindowMs = 100)]
    public partial Task<string> SuggestAsync(string user, [MergeAppend] string text, CancellationToken cancellationToken = default);

    [Guarded(Scene = SlidingScene, TimeoutMs = 0, MaxRetries = 0, MergeWindowMs = 100, MergeMode = MergeMode.Sliding, MergeMaxWaitMs = 500)]
    public partial Task<string> DraftAsync(string user, CancellationToken cancellationToken = default);

    private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => model.RespondAsync(question, cancellationToken);

    private Task<string> SuggestCoreAsync(string user, string text, CancellationToken cancellationToken) => model.RespondAsync(user + ":" + text, cancellationToken);

    private Task<string> DraftCoreAsync(string user, CancellationToken cancellationToken) => model.RespondAsync(user, cancellationToken);
}
