using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Reflection;
using LlmGuard.Generators.Diagnostics;
using LlmGuard.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace LlmGuard.Generators.Tests;

/// <summary>Edits that do not touch a guarded declaration regenerate nothing; edits that do, regenerate it.</summary>
public sealed class IncrementalityTests
{
    private const string SourceOutput = "SourceOutput";

    private const string Guarded = """
        using System.Threading;
        using System.Threading.Tasks;
        using LlmGuard;

        namespace Demo;

        public partial class Assistant
        {
            public int Unrelated()
            {
                return 1;
            }

            [Guarded(TimeoutMs = 1000)]
            public partial Task<string> AskAsync(string question, CancellationToken cancellationToken);

            private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);
        }

        public partial class Other
        {
            [Guarded(Key = "{id}")]
            public partial ValueTask<int> CountAsync(int id, [NotInKey] string ignored);

            private ValueTask<int> CountCoreAsync(int id, string ignored) => new(id);
        }
        """;

    private static readonly string[] s_trackedSteps = { TrackingNames.Methods, TrackingNames.Diagnostics, TrackingNames.Types, TrackingNames.Scenes };

    [Fact]
    public void First_run_reports_new_outputs_for_every_tracked_step()
    {
        GeneratorRunResult result = GeneratorHarness.Run(Guarded).Result;

        foreach (string step in s_trackedSteps)
        {
            Assert.All(Outputs(result.TrackedSteps, step), output => Assert.Equal(IncrementalStepRunReason.New, output.Reason));
        }

        Assert.Equal(2, Outputs(result.TrackedSteps, TrackingNames.Types).Length);
    }

    [Fact]
    public void Editing_an_unrelated_method_body_in_the_same_file_regenerates_nothing()
    {
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun(Guarded);
        SyntaxTree tree = compilation.SyntaxTrees.Single();
        string edited = Guarded.Replace("return 1;", "int longer = 41;\n        return longer + 1;", StringComparison.Ordinal);
        Assert.NotEqual(Guarded, edited);

        GeneratorRunResult result = RunAgain(driver, compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(SourceText.From(edited))));

        AssertNothingRegenerated(result);
    }

    [Fact]
    public void Adding_an_unrelated_file_regenerates_nothing()
    {
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun(Guarded);
        SyntaxTree unrelated = GeneratorHarness.Parse("namespace Demo; public sealed class Unrelated { public int Value => 42; }", "Unrelated.cs");

        GeneratorRunResult result = RunAgain(driver, compilation.AddSyntaxTrees(unrelated));

        AssertNothingRegenerated(result);
    }

    [Fact]
    public void Editing_a_guarded_declaration_regenerates_its_type()
    {
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun(Guarded);
        SyntaxTree tree = compilation.SyntaxTrees.Single();
        string edited = Guarded.Replace("TimeoutMs = 1000", "TimeoutMs = 2000", StringComparison.Ordinal);

        GeneratorRunResult result = RunAgain(driver, compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(SourceText.From(edited))));

        Assert.Contains(Outputs(result.TrackedSteps, TrackingNames.Types), output => output.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains(Outputs(result.TrackedOutputSteps, SourceOutput), output => output.Reason == IncrementalStepRunReason.Modified);
        Assert.Contains("timeoutMs: 2000", result.GeneratedSources.Single(s => s.HintName == "Demo.Assistant.Guarded.g.cs").SourceText.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Editing_a_guarded_setting_regenerates_the_scene_manifest_with_the_new_value()
    {
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun(Guarded);
        SyntaxTree tree = compilation.SyntaxTrees.Single();
        string edited = Guarded.Replace("TimeoutMs = 1000", "TimeoutMs = 2000", StringComparison.Ordinal);

        GeneratorRunResult result = RunAgain(driver, compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(SourceText.From(edited))));

        Assert.Equal(IncrementalStepRunReason.Modified, Assert.Single(Outputs(result.TrackedSteps, TrackingNames.Scenes)).Reason);
        string manifest = result.GeneratedSources.Single(s => s.HintName == GeneratorRun.SceneManifestHintName).SourceText.ToString();
        Assert.Contains("method: \"Demo.Assistant.AskAsync\", timeoutMs: 2000,", manifest, StringComparison.Ordinal);
    }

    [Fact]
    public void Moving_a_declaration_that_has_a_diagnostic_reports_it_again_without_regenerating_source()
    {
        string withInfo = Guarded.Replace("[NotInKey] string ignored", "string ignored", StringComparison.Ordinal);
        (GeneratorDriver driver, CSharpCompilation compilation) = FirstRun(withInfo);
        SyntaxTree tree = compilation.SyntaxTrees.Single();
        string edited = withInfo.Replace("return 1;", "int longer = 41;\n        return longer + 1;", StringComparison.Ordinal);

        GeneratorRunResult result = RunAgain(driver, compilation.ReplaceSyntaxTree(tree, tree.WithChangedText(SourceText.From(edited))));

        Assert.Contains(Outputs(result.TrackedSteps, TrackingNames.Diagnostics), output => output.Reason == IncrementalStepRunReason.Modified);
        Assert.All(Outputs(result.TrackedSteps, TrackingNames.Types), output => Assert.True(
            output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
            $"A type was {output.Reason}."));
        Diagnostic moved = Assert.Single(result.Diagnostics);
        Assert.Equal("LLMG015", moved.Id);
        Assert.Equal("ignored", edited.Substring(moved.Location.SourceSpan.Start, moved.Location.SourceSpan.Length));
    }

    [Fact]
    public void Tracked_step_outputs_hold_only_plain_data()
    {
        GeneratorRunResult result = GeneratorHarness.Run(
            Guarded,
            """
            using System.Threading.Tasks;
            using LlmGuard;

            public partial class Broken
            {
                [Guarded(Key = "{missing}", Fallback = "None")]
                public partial Task<string> AskAsync(string question);
            }
            """).Result;

        int checkedOutputs = 0;
        foreach (string step in s_trackedSteps)
        {
            foreach ((object value, IncrementalStepRunReason _) in Outputs(result.TrackedSteps, step))
            {
                AssertPlainData(value, step, depth: 0);
                checkedOutputs++;
            }
        }

        // Three methods, three diagnostic lists and two types with specs or stubs.
        Assert.True(checkedOutputs >= 8, $"Only {checkedOutputs} outputs were checked.");
    }

    private static (GeneratorDriver Driver, CSharpCompilation Compilation) FirstRun(string source)
    {
        CSharpCompilation compilation = GeneratorHarness.Compile(source);
        GeneratorDriver driver = GeneratorHarness.CreateDriver().RunGenerators(compilation);
        // Two types and the scene manifest.
        Assert.Equal(3, driver.GetRunResult().Results[0].GeneratedSources.Length);
        return (driver, compilation);
    }

    private static GeneratorRunResult RunAgain(GeneratorDriver driver, CSharpCompilation edited)
    {
        GeneratorRunResult result = driver.RunGenerators(edited).GetRunResult().Results[0];
        Assert.Null(result.Exception);
        return result;
    }

    private static void AssertNothingRegenerated(GeneratorRunResult result)
    {
        (object Value, IncrementalStepRunReason Reason)[] types = Outputs(result.TrackedSteps, TrackingNames.Types);
        (object Value, IncrementalStepRunReason Reason)[] scenes = Outputs(result.TrackedSteps, TrackingNames.Scenes);
        (object Value, IncrementalStepRunReason Reason)[] sources = Outputs(result.TrackedOutputSteps, SourceOutput);
        Assert.Equal(2, types.Length);
        Assert.Single(scenes);
        Assert.NotEmpty(sources);
        Assert.All(types.Concat(scenes).Concat(sources), output => Assert.True(
            output.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged,
            $"An output of {output.Value.GetType().Name} was {output.Reason}."));
    }

    private static (object Value, IncrementalStepRunReason Reason)[] Outputs(ImmutableDictionary<string, ImmutableArray<IncrementalGeneratorRunStep>> steps, string name)
    {
        Assert.True(steps.TryGetValue(name, out ImmutableArray<IncrementalGeneratorRunStep> runSteps), $"No tracked step '{name}'; have {string.Join(", ", steps.Keys)}.");
        return runSteps.SelectMany(step => step.Outputs).ToArray();
    }

    /// <summary>Walks a value's public properties and elements: none may be a symbol, syntax, compilation or anything else that pins one.</summary>
    private static void AssertPlainData(object? value, string path, int depth)
    {
        Assert.True(depth < 32, $"{path} nests too deep to be plain data.");
        if (value is null || value is string || value.GetType().IsPrimitive || value.GetType().IsEnum)
        {
            return;
        }

        // A diagnostic keeps its source location (a tree and a span, no compilation) so pragmas apply;
        // it travels only through the diagnostics output, never through the specs source is generated from.
        if (value is DiagnosticInfo diagnostic)
        {
            Assert.True(diagnostic.Location is null || diagnostic.Location.IsInSource, $"{path}.Location is not a source location.");
            AssertPlainData(diagnostic.Id, path + ".Id", depth + 1);
            AssertPlainData(diagnostic.MessageArguments, path + ".MessageArguments", depth + 1);
            return;
        }

        Type type = value.GetType();
        Assert.False(
            value is ISymbol or SyntaxNode or SyntaxTree or Compilation or SemanticModel or Location or AttributeData or SyntaxToken,
            $"{path} is a {type.FullName}, which pins a compilation.");
        bool plainType = type.Namespace?.StartsWith("LlmGuard.Generators", StringComparison.Ordinal) == true
            || type == typeof(TextSpan) || type == typeof(LinePositionSpan) || type == typeof(LinePosition);
        Assert.True(plainType, $"{path} is a {type.FullName}, which is not one of the generator's models.");

        if (value is IEnumerable items)
        {
            int index = 0;
            foreach (object? item in items)
            {
                AssertPlainData(item, $"{path}[{index++}]", depth + 1);
            }
        }

        foreach (PropertyInfo property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
        {
            AssertPlainData(property.GetValue(value), path + "." + property.Name, depth + 1);
        }
    }
}
