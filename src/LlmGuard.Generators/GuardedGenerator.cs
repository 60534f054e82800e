using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using LlmGuard.Generators.Common;
using LlmGuard.Generators.Diagnostics;
using LlmGuard.Generators.Emitting;
using LlmGuard.Generators.Models;
using LlmGuard.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace LlmGuard.Generators;

/// <summary>Generates the implementation of every partial method marked <c>[LlmGuard.Guarded]</c>.</summary>
[Generator(LanguageNames.CSharp)]
public sealed class GuardedGenerator : IIncrementalGenerator
{
    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValuesProvider<ParseResult> methods = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                "LlmGuard.GuardedAttribute",
                static (node, _) => node is MethodDeclarationSyntax or LocalFunctionStatementSyntax,
                GuardedMethodParser.Parse)
            .WithTrackingName(TrackingNames.Methods);

        IncrementalValuesProvider<EquatableArray<DiagnosticInfo>> diagnostics = methods
            .Select(static (result, _) => result.Diagnostics)
            .WithTrackingName(TrackingNames.Diagnostics);
        context.RegisterSourceOutput(diagnostics, static (output, infos) =>
        {
            foreach (DiagnosticInfo info in infos)
            {
                if (!info.Silent)
                {
                    output.ReportDiagnostic(info.ToDiagnostic());
                }
            }
        });

        IncrementalValuesProvider<GuardedTypeSpec> types = methods
            .Select(static (result, _) => (result.Spec, result.Stub))
            .Where(static member => member.Spec is not null || member.Stub is not null)
            .Collect()
            .SelectMany(static (members, _) => GroupByType(members))
            .WithTrackingName(TrackingNames.Types);
        context.RegisterSourceOutput(types, static (output, type) => output.AddSource(type.HintName, GuardedSourceEmitter.Emit(type)));

        IncrementalValueProvider<EquatableArray<SceneManifestEntry>> scenes = methods
            .Select(static (result, _) => result.Spec is null ? null : SceneManifestEntry.From(result.Spec))
            .Where(static entry => entry is not null)
            .Collect()
            .Select(static (entries, _) => OrderScenes(entries!))
            .WithTrackingName(TrackingNames.Scenes);
        context.RegisterSourceOutput(scenes, static (output, entries) =>
        {
            if (entries.Count > 0)
            {
                output.AddSource(SceneManifestEmitter.HintName, SceneManifestEmitter.Emit(entries));
            }
        });
    }

    // Sorted, so the manifest does not change when files are compiled in another order.
    private static EquatableArray<SceneManifestEntry> OrderScenes(ImmutableArray<SceneManifestEntry> entries) =>
        entries
            .OrderBy(static entry => entry.Method, StringComparer.Ordinal)
            .ThenBy(static entry => entry.Scene, StringComparer.Ordinal)
            .ToEquatableArray();

    private static IEnumerable<GuardedTypeSpec> GroupByType(ImmutableArray<(GuardedMethodSpec? Spec, StubSpec? Stub)> members)
    {
        // The driver compares hint names ignoring case, and C# type names need not differ in more than case.
        var hintNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (IGrouping<TypeHierarchy, (GuardedMethodSpec? Spec, StubSpec? Stub)> group in members.GroupBy(member => member.Spec?.ContainingType ?? member.Stub!.ContainingType))
        {
            var type = new GuardedTypeSpec(
                group.Key,
                group.Select(member => member.Spec).OfType<GuardedMethodSpec>().ToEquatableArray(),
                group.Select(member => member.Stub).OfType<StubSpec>().ToEquatableArray());
            string hintName = type.HintName;
            for (int number = 2; !hintNames.Add(hintName); number++)
            {
                hintName = type.HintName.Substring(0, type.HintName.Length - ".g.cs".Length) + number + ".g.cs";
            }

            yield return type with { HintName = hintName };
        }
    }
}

/// <summary>Names of the pipeline's steps, for incrementality tests.</summary>
internal static class TrackingNames
{
    public const string Methods = nameof(Methods);
    public const string Diagnostics = nameof(Diagnostics);
    public const string Types = nameof(Types);
    public const string Scenes = nameof(Scenes);
}
