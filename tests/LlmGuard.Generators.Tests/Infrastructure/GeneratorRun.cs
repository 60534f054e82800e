using System;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;

namespace LlmGuard.Generators.Tests.Infrastructure;

/// <summary>What one run of the generator produced.</summary>
/// <param name="Input">The compilation the generator read.</param>
/// <param name="Output">The input plus the generated sources.</param>
/// <param name="Driver">The driver after the run, to run again incrementally.</param>
/// <param name="RunResult">The driver's run result, with tracked steps.</param>
/// <param name="GeneratorDiagnostics">What the generator (and the driver, for an exception) reported.</param>
/// <param name="OutputDiagnostics">The errors and warnings of <paramref name="Output"/>.</param>
internal sealed record GeneratorRun(
    Compilation Input,
    Compilation Output,
    GeneratorDriver Driver,
    GeneratorDriverRunResult RunResult,
    ImmutableArray<Diagnostic> GeneratorDiagnostics,
    ImmutableArray<Diagnostic> OutputDiagnostics)
{
    public const string SceneManifestHintName = "LlmGuardScenes.g.cs";

    public GeneratorRunResult Result => RunResult.Results.Single();

    /// <summary>The generated files of the guarded types; the assembly's scene manifest is <see cref="SceneManifest"/>.</summary>
    public ImmutableArray<GeneratedSourceResult> GeneratedSources =>
        Result.GeneratedSources.Where(s => s.HintName != SceneManifestHintName).ToImmutableArray();

    /// <summary>The text of <c>LlmGuardScenes.g.cs</c>, or <see langword="null"/> when the generator wrote none.</summary>
    public string? SceneManifest =>
        Result.GeneratedSources.Where(s => s.HintName == SceneManifestHintName).Select(s => s.SourceText.ToString()).SingleOrDefault();

    public ImmutableArray<Diagnostic> OutputErrors => OutputDiagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToImmutableArray();

    /// <summary>Whether the generator threw, which the driver reports as CS8785 (or an analyzer as AD0001).</summary>
    public bool GeneratorThrew =>
        Result.Exception is not null || GeneratorDiagnostics.Concat(Result.Diagnostics).Any(d => d.Id is "CS8785" or "AD0001");

    /// <summary>The text of the one generated file.</summary>
    public string SingleSource()
    {
        Assert.True(GeneratedSources.Length == 1, $"Expected one generated file, got {GeneratedSources.Length}.\n{Describe()}");
        return GeneratedSources[0].SourceText.ToString();
    }

    public string Source(string hintName)
    {
        GeneratedSourceResult? source = GeneratedSources.Cast<GeneratedSourceResult?>().FirstOrDefault(s => s!.Value.HintName == hintName);
        Assert.True(source is not null, $"No generated file named '{hintName}'.\n{Describe()}");
        return source!.Value.SourceText.ToString();
    }

    /// <summary>The source text a diagnostic's location covers, read from the input's syntax tree of that path.</summary>
    public string LocatedText(Diagnostic diagnostic)
    {
        Assert.True(diagnostic.Location != Location.None, $"{diagnostic.Id} has no location.");
        string path = diagnostic.Location.GetLineSpan().Path;
        SyntaxTree? tree = Input.SyntaxTrees.FirstOrDefault(t => t.FilePath == path);
        Assert.True(tree is not null, $"{diagnostic.Id} points into '{path}', which is not an input file.");
        return tree!.GetText().ToString(diagnostic.Location.SourceSpan);
    }

    /// <summary>Everything a failing assertion should show: the diagnostics and the generated files.</summary>
    public string Describe()
    {
        var text = new StringBuilder();
        text.AppendLine("Generator diagnostics:");
        foreach (Diagnostic diagnostic in GeneratorDiagnostics)
        {
            text.Append("  ").AppendLine(diagnostic.ToString());
        }

        if (Result.Exception is { } exception)
        {
            text.Append("Generator exception: ").AppendLine(exception.ToString());
        }

        text.AppendLine("Output compilation errors and warnings:");
        foreach (Diagnostic diagnostic in OutputDiagnostics)
        {
            text.Append("  ").AppendLine(diagnostic.ToString());
        }

        foreach (GeneratedSourceResult source in Result.GeneratedSources)
        {
            text.Append("==== ").AppendLine(source.HintName).AppendLine(source.SourceText.ToString());
        }

        return text.ToString();
    }

    /// <summary>Asserts the generator reported nothing and the output compiles without errors or warnings.</summary>
    public void AssertClean()
    {
        Assert.False(GeneratorThrew, Describe());
        Assert.True(GeneratorDiagnostics.IsEmpty, "Expected no generator diagnostics.\n" + Describe());
        AssertOutputCompilesCleanly();
    }

    /// <summary>Asserts the output compilation has no error and no warning, whatever the generator reported.</summary>
    public void AssertOutputCompilesCleanly() =>
        Assert.True(OutputDiagnostics.IsEmpty, "Expected the output compilation to have no errors and no warnings.\n" + Describe());

    public Diagnostic SingleDiagnostic(string id)
    {
        Diagnostic[] matching = GeneratorDiagnostics.Where(d => d.Id == id).ToArray();
        Assert.True(matching.Length == 1, $"Expected one {id}, got {matching.Length}.\n{Describe()}");
        return matching[0];
    }

    public string[] GeneratorDiagnosticIds() => GeneratorDiagnostics.Select(d => d.Id).OrderBy(id => id, StringComparer.Ordinal).ToArray();
}
