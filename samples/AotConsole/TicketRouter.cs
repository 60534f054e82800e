using System.Threading;
using System.Threading.Tasks;
using LlmGuard;

namespace AotConsole;

/// <summary>
/// A guarded interface member: calls through the interface run the generated default implementation, whichever
/// class implements it; implementations provide only the runtime and the core.
/// </summary>
public partial interface ITicketRouter
{
    protected GuardRuntime Runtime { get; }

    [Guarded(Scene = "aot_route", Key = "{ticketId}", TimeoutMs = 1000, MaxRetries = 0)]
    public partial Task<string> RouteAsync(string ticketId, [NotInKey] string text, CancellationToken cancellationToken = default);

    protected Task<string> RouteCoreAsync(string ticketId, string text, CancellationToken cancellationToken);
}

/// <summary>Stands in for the model behind the routers: counts its calls and answers only when allowed to.</summary>
public sealed class RoutingModel
{
    private readonly TaskCompletionSource _mayAnswer = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _calls;

    public int Calls => Volatile.Read(ref _calls);

    public void LetAnswer() => _mayAnswer.TrySetResult();

    public async Task<string> RouteAsync(string text, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        await _mayAnswer.Task.WaitAsync(cancellationToken);
        return text.Contains("invoice", System.StringComparison.Ordinal) ? "billing" : "support";
    }
}

public sealed class ModelTicketRouter(GuardRuntime runtime, RoutingModel model) : ITicketRouter
{
    GuardRuntime ITicketRouter.Runtime => runtime;

    Task<string> ITicketRouter.RouteCoreAsync(string ticketId, string text, CancellationToken cancellationToken) =>
        model.RouteAsync(text, cancellationToken);
}
