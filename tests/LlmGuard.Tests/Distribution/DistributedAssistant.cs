using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Distribution;

/// <summary>Guarded methods of the scenes the distribution hook tests configure; no other test uses these scenes.</summary>
public partial class DistributedAssistant(GuardRuntime runtime, ScriptedModel model)
{
    public const string SharedScene = "dist_shared";
    public const string LocalScene = "dist_local";
    public const string StreamScene = "dist_stream";
    public const string MergeScene = "dist_merge";

    [Guarded(Scene = SharedScene, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> AskAsync(string question, CancellationToken cancellationToken = default);

    // Same scene, same result type and the same key as AskAsync: only the method tells their answers apart.
    [Guarded(Scene = SharedScene, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> SummarizeAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = LocalScene, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> AskLocallyAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = StreamScene, TimeoutMs = 0, MaxRetries = 0)]
    public partial IAsyncEnumerable<string> StreamAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = MergeScene, Key = "{session}", MergeWindowMs = 100, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> ReplyToBurstAsync(string session, [MergeAppend(Separator = " / ")] string message, CancellationToken cancellationToken = default);

    private Task<string> ReplyToBurstCoreAsync(string session, string message, CancellationToken cancellationToken) => model.RespondAsync(message, cancellationToken);

    private async IAsyncEnumerable<string> StreamCoreAsync(string question, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        yield return await model.RespondAsync(question, cancellationToken);
    }

    private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => model.RespondAsync(question, cancellationToken);

    private Task<string> SummarizeCoreAsync(string question, CancellationToken cancellationToken) => model.RespondAsync("summary of " + question, cancellationToken);

    private Task<string> AskLocallyCoreAsync(string question, CancellationToken cancellationToken) => model.RespondAsync(question, cancellationToken);
}
