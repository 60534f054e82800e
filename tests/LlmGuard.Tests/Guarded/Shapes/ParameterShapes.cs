using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Guarded.Shapes;

/// <summary>Parameters named with C# keywords, optional parameters, and the cancellation token in every position.</summary>
public sealed partial class ParameterShapes(GuardRuntime runtime, ScriptedModel model)
{
    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> RouteAsync(string @class, string @event);

    [Guarded(Key = "{event}", TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> RouteByEventAsync([NotInKey] string @class, string @event);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> TranslateAsync(string text, string language = "en", int version = 1);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> TokenFirstAsync(CancellationToken cancellationToken, string sessionId, string question);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> TokenMiddleAsync(string sessionId, CancellationToken cancellationToken, string question);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> TokenLastAsync(string sessionId, string question, CancellationToken cancellationToken);

    private Task<string> RouteCoreAsync(string @class, string @event) =>
        model.RespondAsync(@class + "|" + @event, CancellationToken.None);

    private Task<string> RouteByEventCoreAsync(string @class, string @event) =>
        model.RespondAsync(@class + "|" + @event, CancellationToken.None);

    private Task<string> TranslateCoreAsync(string text, string language, int version) =>
        model.RespondAsync(text + "|" + language + "|" + version, CancellationToken.None);

    private Task<string> TokenFirstCoreAsync(CancellationToken cancellationToken, string sessionId, string question) =>
        model.RespondAsync(sessionId + "|" + question, cancellationToken);

    private Task<string> TokenMiddleCoreAsync(string sessionId, CancellationToken cancellationToken, string question) =>
        model.RespondAsync(sessionId + "|" + question, cancellationToken);

    private Task<string> TokenLastCoreAsync(string sessionId, string question, CancellationToken cancellationToken) =>
        model.RespondAsync(sessionId + "|" + question, cancellationToken);
}
