using System.Linq;
using LlmGuard.Generators.Common;
using Microsoft.CodeAnalysis;

namespace LlmGuard.Generators.Diagnostics;

/// <summary>
/// A diagnostic as equatable data, turned into a <see cref="Diagnostic"/> only when it is reported. It keeps a
/// source location (tree and span, without the compilation) so that <c>#pragma warning disable</c> applies; it
/// travels only through the diagnostics output, never through the specs the source is generated from.
/// </summary>
internal sealed record DiagnosticInfo(string Id, Location? Location, EquatableArray<string> MessageArguments)
{
    /// <summary>Counts as this error for the method, but another method of the type reports it.</summary>
    public bool Silent { get; init; }

    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params string[] messageArguments) =>
        new(descriptor.Id, Trim(location), messageArguments.ToEquatableArray());

    public Diagnostic ToDiagnostic() =>
        Diagnostic.Create(DiagnosticDescriptors.ById(Id), Location, MessageArguments.Cast<object>().ToArray());

    private static Location? Trim(Location? location) =>
        location?.SourceTree is { } tree ? Location.Create(tree, location.SourceSpan) : null;
}
