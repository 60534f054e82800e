using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics.CodeAnalysis;
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
/// Runs <see cref="UnguardedLlmCallAnalyzer"/> over real compilations that reference the model SDKs restored from
/// the registry (or none of them), with .editorconfig options. Stands in for Microsoft.CodeAnalysis.Testing.
/// </summary>
internal static class AnalyzerHarness
{
    private static readonly string[] s_sdks = { "OpenAI", "Anthropic", "Microsoft.Extensions.AI.Abstractions", "Microsoft.SemanticKernel.Abstractions", "Microsoft.SemanticKernel.Core" };

    public static Task<AnalyzerRun> RunAsync(string source, string? editorConfigApis = null, bool withSdks = true, params string[] moreSources)
    {
        IEnumerable<MetadataReference> references = GeneratorHarness.ReferencePaths().Where(path => withSdks || !s_sdks.Contains(Path.GetFileNameWithoutExtension(path)))
            .Select(path => MetadataReference.CreateFromFile(path));
        CSharpCompilation compilation = CSharpCompilation.Create(
            "AnalyzerTests",
            new[] { source }.Concat(moreSources).Select((text, i) => CSharpSyntaxTree.ParseText(text, GeneratorHarness.ParseOptions, $"Source{i}.cs")),
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable)
                .WithSpecificDiagnosticOptions(new Dictionary<string, ReportDiagnostic> { ["OPENAI001"] = ReportDiagnostic.Suppress })); // OpenAI's Responses client is marked experimental.

        var options = new AnalyzerOptions(
            ImmutableArray<AdditionalText>.Empty,
            new EditorConfigOptions(editorConfigApis is null ? null : new Dictionary<string, string> { [UnguardedLlmCallAnalyzer.ApisOption] = editorConfigApis }));
        CompilationWithAnalyzers withAnalyzers = compilation.WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new UnguardedLlmCallAnalyzer()), options);
        return RunAsync(compilation, withAnalyzers);
    }

    private static async Task<AnalyzerRun> RunAsync(CSharpCompilation compilation, CompilationWithAnalyzers withAnalyzers)
    {
        ImmutableArray<Diagnostic> diagnostics = await withAnalyzers.GetAnalyzerDiagnosticsAsync(CancellationToken.None);
        AnalyzerTelemetryInfo telemetry = await withAnalyzers.GetAnalyzerTelemetryInfoAsync(withAnalyzers.Analyzers[0], CancellationToken.None);
        ImmutableArray<Diagnostic> errors = compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToImmutableArray();
        return new AnalyzerRun(diagnostics, telemetry, errors);
    }

    /// <summary>The same .editorconfig options for every file, as a <c>[*.cs]</c> section gives them.</summary>
    private sealed class EditorConfigOptions(Dictionary<string, string>? values) : AnalyzerConfigOptionsProvider
    {
        private readonly Options _options = new(values ?? new Dictionary<string, string>());

        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(new Dictionary<string, string>());

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => _options;

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => _options;

        private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
        {
            public override bool TryGetValue(string key, [NotNullWhen(true)] out string? value) => values.TryGetValue(key, out value);
        }
    }
}

/// <param name="Diagnostics">What the analyzer reported.</param>
/// <param name="Telemetry">What the analyzer registered and how often it ran.</param>
/// <param name="CompilationErrors">Errors in the test source itself, which would make a test meaningless.</param>
internal sealed record AnalyzerRun(ImmutableArray<Diagnostic> Diagnostics, AnalyzerTelemetryInfo Telemetry, ImmutableArray<Diagnostic> CompilationErrors);
