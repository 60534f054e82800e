using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Generators.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Diagnostics.Telemetry;

namespace LlmGuard.Generators.Tests.Infrastructure;

/// <summary>
/// Runs <see cref="UnguardedLlmCallAnalyzer"/> over a real compilation that references the model SDKs restored from
/// the registry (or none of them), for what <see cref="Llmg100Test"/> cannot see: the analyzer's telemetry (which
/// actions it registered).
/// </summary>
internal static class AnalyzerHarness
{
    private static readonly string[] s_sdks =
    {
        "OpenAI", "Anthropic", "Microsoft.Extensions.AI.Abstractions", "Microsoft.SemanticKernel.Abstractions", "Microsoft.SemanticKernel.Core",
    };

    /// <summary>The test host's assemblies, as <see cref="GeneratorHarness"/> references them, with or without the model SDKs.</summary>
    public static IEnumerable<MetadataReference> References(bool withSdks) =>
        GeneratorHarness.ReferencePaths().Where(path => withSdks || !s_sdks.Contains(Path.GetFileNameWithoutExtension(path)))
            .Select(path => MetadataReference.CreateFromFile(path));

    public static async Task<AnalyzerRun> RunAsync(string source, bool withSdks = true)
    {
        CSharpCompilation compilation = CSharpCompilation.Create(
            "AnalyzerTests",
            new[] { CSharpSyntaxTree.ParseText(source, GeneratorHarness.ParseOptions, "Source0.cs") },
            References(withSdks),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable)
                .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic>(GeneratorHarness.SdkSuppressions) { ["OPENAI001"] = ReportDiagnostic.Suppress })); // OpenAI's Responses client is marked experimental.

        CompilationWithAnalyzers withAnalyzers = compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new UnguardedLlmCallAnalyzer()));
        ImmutableArray<Diagnostic> diagnostics = await withAnalyzers.GetAnalyzerDiagnosticsAsync(CancellationToken.None);
        AnalyzerTelemetryInfo telemetry = await withAnalyzers.GetAnalyzerTelemetryInfoAsync(withAnalyzers.Analyzers[0], CancellationToken.None);
        ImmutableArray<Diagnostic> errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToImmutableArray();
        return new AnalyzerRun(diagnostics, telemetry, errors);
    }
}

/// <param name="Diagnostics">What the analyzer reported.</param>
/// <param name="Telemetry">What the analyzer registered and how often it ran.</param>
/// <param name="CompilationErrors">Errors in the test source itself, which would make a test meaningless.</param>
internal sealed record AnalyzerRun(ImmutableArray<Diagnostic> Diagnostics, AnalyzerTelemetryInfo Telemetry, ImmutableArray<Diagnostic> CompilationErrors);
