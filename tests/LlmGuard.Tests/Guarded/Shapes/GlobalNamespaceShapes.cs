using System.Threading;
using System.Threading.Tasks;
using LlmGuard;
using LlmGuard.Tests.Fakes;

/// <summary>A guarded type in the global namespace; the generated file declares no namespace either.</summary>
public sealed partial class GlobalNamespaceDesk(GuardRuntime runtime, ScriptedModel model)
{
    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> AskAsync(string sessionId, string question);

    private Task<string> AskCoreAsync(string sessionId, string question) =>
        model.RespondAsync(sessionId + "|" + question, CancellationToken.None);
}
