using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace LlmGuard.Generators.Tests.Infrastructure;

/// <summary>Compiles test sources against the real runtime and runs <see cref="GuardedGenerator"/> over them.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest);

    /// <summary>
    /// The warnings the .NET SDK turns off in every build (its default NoWarn): assembly version unification
    /// between packages (OpenAI built against an older System.ClientModel than the runtime's), which a user never sees.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, ReportDiagnostic> SdkSuppressions = new Dictionary<string, ReportDiagnostic>
    {
        ["CS1701"] = ReportDiagnostic.Suppress,
        ["CS1702"] = ReportDiagnostic.Suppress,
    };

    private static readonly CSharpCompilationOptions s_options = new CSharpCompilationOptions(
        OutputKind.DynamicallyLinkedLibrary,
        nullableContextOptions: NullableContextOptions.Enable,
        allowUnsafe: true).WithSpecificDiagnosticOptions(SdkSuppressions);

    // One empty compilation whose references every test compilation shares, so metadata is bound once.
    private static readonly CSharpCompilation s_empty = CSharpCompilation.Create(
        "GeneratorTests",
        syntaxTrees: null,
        references: LoadReferences(),
        s_options);

    /// <summary>The path of the <paramref name="index"/>th source passed to <see cref="Compile"/>.</summary>
    public static string SourcePath(int index) => $"Source{index}.cs";

    public static SyntaxTree Parse(string source, string path) => CSharpSyntaxTree.ParseText(source, ParseOptions, path);

    public static CSharpCompilation Compile(params string[] sources) =>
        s_empty.AddSyntaxTrees(sources.Select((source, index) => Parse(source, SourcePath(index))));

    public static GeneratorDriver CreateDriver() =>
        CSharpGeneratorDriver.Create(
            new[] { new GuardedGenerator().AsSourceGenerator() },
            parseOptions: ParseOptions,
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public static GeneratorRun Run(params string[] sources) => Run(Compile(sources));

    /// <summary>Runs the generator over <paramref name="compilation"/>, on <paramref name="driver"/> when one is given so earlier runs are cached.</summary>
    public static GeneratorRun Run(CSharpCompilation compilation, GeneratorDriver? driver = null)
    {
        driver = (driver ?? CreateDriver()).RunGeneratorsAndUpdateCompilation(compilation, out Compilation output, out ImmutableArray<Diagnostic> driverDiagnostics);
        GeneratorDriverRunResult runResult = driver.GetRunResult();
        ImmutableArray<Diagnostic> outputDiagnostics = output.GetDiagnostics()
            .Where(d => d.Severity is DiagnosticSeverity.Error or DiagnosticSeverity.Warning)
            .ToImmutableArray();
        return new GeneratorRun(compilation, output, driver, runResult, driverDiagnostics, outputDiagnostics);
    }

    /// <summary>Runs only the generator, without compiling its output: for tests that run it thousands of times.</summary>
    public static GeneratorRunResult RunGeneratorOnly(CSharpCompilation compilation) =>
        CreateDriver().RunGenerators(compilation).GetRunResult().Results[0];

    /// <summary>The test host's trusted platform assemblies (the SDK, the model SDKs) plus the runtime and Polly.</summary>
    public static IEnumerable<string> ReferencePaths()
    {
        string trusted = (string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")
            ?? throw new InvalidOperationException("The test host does not list its trusted platform assemblies.");
        return trusted.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(new[] { typeof(GuardedAttribute).Assembly.Location, typeof(Polly.ResiliencePipeline).Assembly.Location })
            .Where(path => path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase))
            .Distinct(StringComparer.Ordinal);
    }

    private static IEnumerable<MetadataReference> LoadReferences() =>
        ReferencePaths().Select(path => MetadataReference.CreateFromFile(path)).ToArray();
}
