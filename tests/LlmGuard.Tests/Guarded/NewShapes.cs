using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Guarded;

/// <summary>A guarded interface: every implementation's calls go through the generated default implementation.</summary>
public partial interface ITicketClassifier
{
    /// <summary>The runtime calls through this interface use; implementations supply it.</summary>
    protected GuardRuntime Runtime { get; }

    [Guarded(Key = "{ticketId}", TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> ClassifyAsync(string ticketId, [NotInKey] string text, CancellationToken cancellationToken = default);

    /// <summary>The core: implementations call the model here; only the interface itself can call it.</summary>
    protected Task<string> ClassifyCoreAsync(string ticketId, string text, CancellationToken cancellationToken);
}

public sealed class ModelTicketClassifier(GuardRuntime runtime, ScriptedModel model) : ITicketClassifier
{
    GuardRuntime ITicketClassifier.Runtime => runtime;

    Task<string> ITicketClassifier.ClassifyCoreAsync(string ticketId, string text, CancellationToken cancellationToken) =>
        model.RespondAsync(ticketId + "|" + text, cancellationToken);
}

/// <summary>A readonly struct: the call carries a copy, which is safe because the struct cannot change.</summary>
public readonly partial struct TenantClient(GuardRuntime runtime, ScriptedModel model, string tenant)
{
    private readonly GuardRuntime _runtime = runtime;

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> AskAsync(string question);

    private Task<string> AskCoreAsync(string question) => model.RespondAsync(tenant + "|" + question, CancellationToken.None);
}

/// <summary>A generic guarded method: the type argument is part of the state's identity.</summary>
public partial class Extractor(GuardRuntime runtime, ScriptedModel model)
{
    [Guarded(Key = "{documentId}", TimeoutMs = 0, MaxRetries = 0, Fallback = nameof(Empty))]
    public partial Task<T?> ExtractAsync<T>(string documentId)
        where T : IParsable<T>;

    private async Task<T?> ExtractCoreAsync<T>(string documentId)
        where T : IParsable<T> =>
        T.Parse(await model.RespondAsync(documentId + "|" + typeof(T).Name, CancellationToken.None), System.Globalization.CultureInfo.InvariantCulture);

    private static T? Empty<T>(string documentId)
        where T : IParsable<T> => default;
}
