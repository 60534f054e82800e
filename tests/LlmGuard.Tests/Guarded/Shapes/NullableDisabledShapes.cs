#nullable disable
using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Guarded.Shapes;

/// <summary>A request from code that predates nullable annotations: every reference is oblivious.</summary>
public sealed class LegacyRequest
{
    public string CustomerId { get; set; }

    public string Text { get; set; }
}

/// <summary>Declared with nullable annotations disabled, as older code is: the generated code must compile without warnings.</summary>
public sealed partial class LegacyAssistant
{
    private readonly GuardRuntime _runtime;
    private readonly ScriptedModel _model;

    public LegacyAssistant(GuardRuntime runtime, ScriptedModel model)
    {
        _runtime = runtime;
        _model = model;
    }

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> AskAsync(string sessionId, string question);

    [Guarded(Key = "{request.CustomerId}", TimeoutMs = 0, MaxRetries = 0, Fallback = nameof(Unavailable))]
    public partial Task<string> HandleAsync(LegacyRequest request, CancellationToken cancellationToken = default);

    // Null arguments are fine here: a null session id has its own key, and a null answer is passed on.
    private async Task<string> AskCoreAsync(string sessionId, string question)
    {
        string answer = await _model.RespondAsync((sessionId ?? "<none>") + "|" + question, CancellationToken.None);
        return answer.Length == 0 ? null : answer;
    }

    private Task<string> HandleCoreAsync(LegacyRequest request, CancellationToken cancellationToken) =>
        _model.RespondAsync((request?.CustomerId ?? "<none>") + "|" + request?.Text, cancellationToken);

    private static string Unavailable(LegacyRequest request, Exception exception) => "unavailable: " + exception.Message;
}
