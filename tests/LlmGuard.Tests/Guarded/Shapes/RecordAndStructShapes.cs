using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Guarded.Shapes;

/// <summary>A record: its positional Runtime property is the runtime.</summary>
public partial record RecordAssistant(GuardRuntime Runtime, ScriptedModel Model, string Persona)
{
    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> AskAsync(string question, CancellationToken cancellationToken = default);

    private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) =>
        Model.RespondAsync(Persona + "|" + question, cancellationToken);
}

/// <summary>A readonly record struct: every copy carries the same runtime, so copies share executions.</summary>
public readonly partial record struct TenantQuota(GuardRuntime Runtime, ScriptedModel Model, string Tenant)
{
    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<int> CountTicketsAsync(string status);

    private async Task<int> CountTicketsCoreAsync(string status) =>
        int.Parse(await Model.RespondAsync(Tenant + "|" + status, CancellationToken.None), CultureInfo.InvariantCulture);
}

/// <summary>A readonly struct whose runtime is a captured primary-constructor parameter.</summary>
public readonly partial struct RegionRouter(GuardRuntime runtime, ScriptedModel model, string region)
{
    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial ValueTask<string> RouteAsync(string ticketId, CancellationToken cancellationToken = default);

    private ValueTask<string> RouteCoreAsync(string ticketId, CancellationToken cancellationToken) =>
        new(model.RespondAsync(region + "|" + ticketId, cancellationToken));
}
