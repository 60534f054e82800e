using LlmGuard.Generators.Common;

namespace LlmGuard.Generators.Models;

// Arguments: What to pass, in order: parameter names, the execution token, or the exception.
// Scene: the target's scene when the fallback is another [Guarded] method (a fallback chain); null for a plain method.
internal sealed record FallbackSpec(string Name, bool IsStatic, bool IsGeneric, EquatableArray<FallbackArgument> Arguments, FallbackReturn Return, string? Scene = null);

internal sealed record FallbackArgument(FallbackArgumentKind Kind, string ParameterName)
{
    public static FallbackArgument Exception { get; } = new(FallbackArgumentKind.Exception, string.Empty);

    public static FallbackArgument CancellationToken { get; } = new(FallbackArgumentKind.CancellationToken, string.Empty);
}

internal enum FallbackArgumentKind
{
    Parameter,
    CancellationToken,
    Exception,
}

/// <summary>Whether the fallback's result is the value itself or must be awaited.</summary>
internal enum FallbackReturn
{
    Value,
    Awaitable,
}
