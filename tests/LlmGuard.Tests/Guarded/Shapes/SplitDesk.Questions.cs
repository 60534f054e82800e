using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Tests.Guarded.Shapes;

/// <summary>Several guarded methods in one declaration: each has its own executions.</summary>
public sealed partial class SplitDesk
{
    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> AskAsync(string sessionId, CancellationToken cancellationToken = default);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> ClarifyAsync(string sessionId, CancellationToken cancellationToken = default);

    private Task<string> AskCoreAsync(string sessionId, CancellationToken cancellationToken) =>
        _model.RespondAsync("ask|" + sessionId, cancellationToken);

    private Task<string> ClarifyCoreAsync(string sessionId, CancellationToken cancellationToken) =>
        _model.RespondAsync("clarify|" + sessionId, cancellationToken);
}
