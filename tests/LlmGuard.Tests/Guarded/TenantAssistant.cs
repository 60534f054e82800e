using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Guarded;

/// <summary>An assistant shared by tenants: its keys read the call context, so tenants and conversations never share answers.</summary>
public partial class TenantAssistant(GuardRuntime runtime, ScriptedModel model)
{
    [Guarded(Key = "{$tenant}:{question}", TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<Reply> AskAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Key = "{$tenant}/{$conversation}", MergeWindowMs = 1000, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<Reply> ReplyAsync([NotInKey] string message, CancellationToken cancellationToken = default);

    // The prompt names the tenant the core runs for, so a test sees whose context an execution ran in.
    private async Task<Reply> AskCoreAsync(string question, CancellationToken cancellationToken) =>
        new(await model.RespondAsync(LlmCallContext.Current?.Tenant + "|" + question, cancellationToken));

    private async Task<Reply> ReplyCoreAsync(string message, CancellationToken cancellationToken) =>
        new(await model.RespondAsync(LlmCallContext.Current?.Conversation + "|" + message, cancellationToken));
}
