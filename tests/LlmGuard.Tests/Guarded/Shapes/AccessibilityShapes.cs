using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Guarded.Shapes;

/// <summary>Guarded methods of every accessibility a partial method with a result can have.</summary>
public partial class AccessLevels(GuardRuntime runtime, ScriptedModel model)
{
    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    internal partial Task<string> InternalAsync(string id);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    protected internal partial Task<string> ProtectedInternalAsync(string id);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    private partial Task<string> PrivateAsync(string id);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    private protected partial Task<string> PrivateProtectedAsync(string id);

    /// <summary>The public way in to the private guarded method.</summary>
    public Task<string> CallPrivateAsync(string id) => PrivateAsync(id);

    private Task<string> InternalCoreAsync(string id) => model.RespondAsync("internal|" + id, CancellationToken.None);

    private Task<string> ProtectedInternalCoreAsync(string id) => model.RespondAsync("protected internal|" + id, CancellationToken.None);

    private Task<string> PrivateCoreAsync(string id) => model.RespondAsync("private|" + id, CancellationToken.None);

    private Task<string> PrivateProtectedCoreAsync(string id) => model.RespondAsync("private protected|" + id, CancellationToken.None);
}

/// <summary>A derived type in the same assembly: the only place a private protected method can be called from.</summary>
public sealed class DerivedAccessLevels(GuardRuntime runtime, ScriptedModel model) : AccessLevels(runtime, model)
{
    public Task<string> CallPrivateProtectedAsync(string id) => PrivateProtectedAsync(id);

    public Task<string> CallProtectedInternalAsync(string id) => ProtectedInternalAsync(id);
}
