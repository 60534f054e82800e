using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Guarded.Shapes;

/// <summary>Static guarded methods that run on the type's static GuardRuntime member.</summary>
public static partial class StaticGlossary
{
    public static GuardRuntime? Runtime { get; set; }

    public static ScriptedModel? Model { get; set; }

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public static partial Task<string> DefineAsync(string term, CancellationToken cancellationToken = default);

    private static Task<string> DefineCoreAsync(string term, CancellationToken cancellationToken) =>
        Model!.RespondAsync("define|" + term, cancellationToken);
}

/// <summary>Static guarded methods in a type without a GuardRuntime member: they run on GuardRuntime.Default.</summary>
public static partial class DefaultRuntimeGlossary
{
    public static ScriptedModel? Model { get; set; }

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public static partial Task<string> DefineAsync(string term);

    private static Task<string> DefineCoreAsync(string term) => Model!.RespondAsync("define|" + term, CancellationToken.None);
}
