using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.CodeFixes;
using LlmGuard.Generators.Analyzers;
using LlmGuard.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace LlmGuard.Generators.Tests.Robustness;

/// <summary>
/// Every guarded source of the repository (samples, the runtime tests' guarded types, and the inline sources of the
/// generator tests) mutated a token at a time, as code looks between two keystrokes: the generator, the LLMG100
/// analyzer and its code fix must never throw. The mutations come from a fixed seed, so a failure reproduces.
/// </summary>
public sealed class TokenMutationTests
{
    private const int Seed = 20_261_201;

    // Enough to reach every kind of mutation in every source several times, and under a minute on a busy 2-core machine.
    private const int MutationsPerSource = 8;

    private static readonly string[] s_fileRoots = { "samples", Path.Combine("tests", "LlmGuard.Tests") };

    private static readonly string[] s_inlineSourceFiles =
    {
        "DiagnosticTests.cs", "GeneratedCodeTests.cs", "GeneratedSourceSnapshotTests.cs", "IncrementalityTests.cs", "ShapeSnapshotTests.cs", "UnguardedLlmCallAnalyzerTests.cs",
    };

    private const string InlineUsings = "using System;\nusing System.Collections.Generic;\nusing System.Threading;\nusing System.Threading.Tasks;\nusing LlmGuard;\n\n";

    // What a half-typed or wrong attribute argument can be: other literals, other types, type and name expressions, broken syntax.
    private static readonly string[] s_junkArguments =
    {
        "1", "-1", "0", "int.MaxValue", "1.5", "'c'", "true", "null", "default", "\"\"", "\"{\"", "\"}\"", "\"{a.}\"", "\"{question}{{\"", "\"{x.y.z}\"",
        "typeof(int)", "typeof(string[])", "nameof(Task)", "nameof(System.String.Length)", "new object()", "(1, 2)", "$\"x{1}\"", "\"a\" + \"b\"",
        "MergeMode.Sliding", "(MergeMode)7", "LlmGuard.MergeMode.Fixed", "1 +", "(", ")", ",", "=", "\"\\u0000\"", "@\"\\\"", "\"\"\"raw\"\"\"",
    };

    private static readonly string[] s_junkNamedArguments =
    {
        "Key = 5", "Core = null", "Core = typeof(int)", "Fallback = nameof(Fallback)", "Fallback = \"\"", "TimeoutMs = \"1\"", "MaxRetries = -5",
        "MergeWindowMs = 100", "MergeWindowMs = -1", "MergeMode = MergeMode.Sliding", "MergeMaxWaitMs = 1", "Supersede = true", "SingleFlight = 1",
        "Scene = \"\"", "Scene = null", "Unknown = 1", "Key = \"{missing}\"", "Key = \"{\"", "Key = Key",
    };

    public static TheoryData<string> SourceNames() => new(GuardedSources().Keys);

    [Fact]
    public void Every_kind_of_guarded_source_is_among_the_sources()
    {
        string[] names = GuardedSources().Keys.ToArray();
        Assert.Contains(names, name => name.StartsWith("samples", StringComparison.Ordinal));
        Assert.Contains(names, name => name.StartsWith(Path.Combine("tests", "LlmGuard.Tests"), StringComparison.Ordinal));
        Assert.True(names.Count(name => name.Contains('#', StringComparison.Ordinal)) >= 50, "Expected the generator tests' inline sources among the sources.");
    }

    [Theory]
    [MemberData(nameof(SourceNames))]
    public async Task Generator_analyzer_and_code_fix_never_throw_on_token_mutations(string sourceName)
    {
        string source = GuardedSources()[sourceName];
        int seed = Seed ^ StableHash(sourceName);
        var random = new Random(seed);
        SyntaxTree tree = GeneratorHarness.Parse(source, "Source0.cs");
        for (int index = 0; index < MutationsPerSource; index++)
        {
            Mutation? mutation = Mutate(tree, source, random);
            if (mutation is null)
            {
                continue;
            }

            string? crash = await CrashOfAsync(mutation.Source);
            Assert.True(
                crash is null,
                $"Mutation {index} of '{sourceName}' (seed {seed}) made a component throw.\nMutation: {mutation.Description}\n{crash}\n---- mutated source near the mutation\n{Excerpt(mutation.Source, mutation.Position)}");
        }
    }

    private static async Task<string?> CrashOfAsync(string source)
    {
        CSharpCompilation compilation = GeneratorHarness.Compile(source);
        GeneratorRunResult generator = GeneratorHarness.RunGeneratorOnly(compilation);
        if (generator.Exception is not null || generator.Diagnostics.Any(d => d.Id is "CS8785" or "AD0001"))
        {
            return "Generator: " + (generator.Exception?.ToString() ?? string.Join("\n", generator.Diagnostics));
        }

        var analyzerExceptions = new List<string>();
        var options = new CompilationWithAnalyzersOptions(
            new AnalyzerOptions(ImmutableArray<AdditionalText>.Empty),
            (exception, analyzer, diagnostic) => analyzerExceptions.Add(exception.ToString()),
            concurrentAnalysis: false,
            logAnalyzerExecutionTime: false);
        ImmutableArray<Diagnostic> diagnostics = await compilation
            .WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new UnguardedLlmCallAnalyzer()), options)
            .GetAnalyzerDiagnosticsAsync(CancellationToken.None);
        if (analyzerExceptions.Count > 0 || diagnostics.Any(d => d.Id == "AD0001"))
        {
            return "Analyzer: " + string.Join("\n", analyzerExceptions.Concat(diagnostics.Where(d => d.Id == "AD0001").Select(d => d.ToString())));
        }

        Diagnostic? unguarded = diagnostics.FirstOrDefault(d => d.Id == "LLMG100");
        if (unguarded is null)
        {
            return null;
        }

        try
        {
            await ApplyCodeFixAsync(compilation, source, unguarded);
        }
        catch (Exception exception)
        {
            return $"Code fix on {unguarded}: {exception}";
        }

        return null;
    }

    private static async Task ApplyCodeFixAsync(CSharpCompilation compilation, string source, Diagnostic diagnostic)
    {
        using var workspace = new AdhocWorkspace();
        ProjectInfo project = ProjectInfo.Create(
            ProjectId.CreateNewId(),
            VersionStamp.Default,
            "Mutated",
            "Mutated",
            LanguageNames.CSharp,
            compilationOptions: compilation.Options,
            parseOptions: GeneratorHarness.ParseOptions,
            metadataReferences: compilation.References);
        Document document = workspace.AddProject(project).AddDocument("Source0.cs", SourceText.From(source));
        var actions = new List<CodeAction>();
        var context = new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None);
        await new MoveCallIntoGuardedMethodCodeFix().RegisterCodeFixesAsync(context);
        foreach (CodeAction action in actions)
        {
            await action.GetOperationsAsync(CancellationToken.None);
        }
    }

    private sealed record Mutation(string Description, string Source, int Position);

    private static Mutation? Mutate(SyntaxTree tree, string source, Random random)
    {
        SyntaxNode root = tree.GetRoot();
        AttributeSyntax[] guarded = root.DescendantNodes().OfType<AttributeSyntax>()
            .Where(attribute => attribute.Name.ToString() is "Guarded" or "LlmGuard.Guarded" or "GuardedAttribute" or "MergeAppend" or "NotInKey")
            .ToArray();

        // Most mutations land in a guarded declaration (the attribute, the method and its type's header), where the generator reads.
        SyntaxToken[] tokens = guarded.Length > 0 && random.NextDouble() < 0.8
            ? guarded[random.Next(guarded.Length)].Ancestors().OfType<MemberDeclarationSyntax>().First().DescendantTokens().ToArray()
            : root.DescendantTokens().ToArray();
        if (tokens.Length < 2)
        {
            return null;
        }

        int kind = random.Next(5);
        if (kind >= 3 && guarded.Length > 0)
        {
            AttributeSyntax attribute = guarded[random.Next(guarded.Length)];
            SeparatedSyntaxList<AttributeArgumentSyntax> arguments = attribute.ArgumentList?.Arguments ?? default;
            if (kind == 3 && arguments.Count > 0)
            {
                ExpressionSyntax expression = arguments[random.Next(arguments.Count)].Expression;
                string junk = random.NextDouble() < 0.8 ? s_junkArguments[random.Next(s_junkArguments.Length)] : tokens[random.Next(tokens.Length)].Text;
                return Replace(source, expression.Span, junk, $"attribute argument '{expression}' replaced by '{junk}'");
            }

            string named = s_junkNamedArguments[random.Next(s_junkNamedArguments.Length)];
            return attribute.ArgumentList is { } list
                ? Replace(source, new TextSpan(list.CloseParenToken.SpanStart, 0), (arguments.Count > 0 ? ", " : string.Empty) + named, $"argument '{named}' added to '{attribute}'")
                : Replace(source, new TextSpan(attribute.Span.End, 0), "(" + named + ")", $"argument list '({named})' added to '{attribute}'");
        }

        int at = random.Next(tokens.Length - 1);
        SyntaxToken token = tokens[at];
        return kind switch
        {
            0 => Replace(source, token.Span, string.Empty, $"token '{token.Text}' at {token.SpanStart} deleted"),
            1 => Replace(source, token.Span, token.Text + " " + token.Text, $"token '{token.Text}' at {token.SpanStart} duplicated"),
            _ => Replace(
                source,
                TextSpan.FromBounds(token.SpanStart, tokens[at + 1].Span.End),
                tokens[at + 1].Text + source.Substring(token.Span.End, tokens[at + 1].SpanStart - token.Span.End) + token.Text,
                $"tokens '{token.Text}' and '{tokens[at + 1].Text}' at {token.SpanStart} swapped"),
        };
    }

    private static Mutation Replace(string source, TextSpan span, string replacement, string description) =>
        new(description, source.Substring(0, span.Start) + replacement + source.Substring(span.End), span.Start);

    private static string Excerpt(string source, int position)
    {
        int start = position;
        for (int lines = 0; start > 0 && lines < 6; start--)
        {
            lines += source[start - 1] == '\n' ? 1 : 0;
        }

        int end = position;
        for (int lines = 0; end < source.Length && lines < 6; end++)
        {
            lines += source[end] == '\n' ? 1 : 0;
        }

        return source.Substring(start, end - start);
    }

    private static int StableHash(string text)
    {
        // string.GetHashCode differs between processes, and the seed must not.
        int hash = 17;
        foreach (char c in text)
        {
            hash = unchecked(hash * 31 + c);
        }

        return hash;
    }

    /// <summary>Sources with guarded code, by a name that says where each came from.</summary>
    private static SortedDictionary<string, string> GuardedSources()
    {
        var sources = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (string root in s_fileRoots)
        {
            foreach (string path in Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, root), "*.cs", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(RepositoryPaths.Root, path);
                string text = File.ReadAllText(path);
                if (!relative.Split(Path.DirectorySeparatorChar).Any(part => part is "obj" or "bin") && text.Contains("[Guarded", StringComparison.Ordinal))
                {
                    sources[relative] = text;
                }
            }
        }

        // The generator tests' sources written as plain (not interpolated) string literals, with the usings their tests prepend.
        foreach (string file in s_inlineSourceFiles)
        {
            string path = Path.Combine(RepositoryPaths.TestProject, file);
            SyntaxNode root = CSharpSyntaxTree.ParseText(File.ReadAllText(path)).GetRoot();
            int number = 0;
            foreach (LiteralExpressionSyntax literal in root.DescendantNodes().OfType<LiteralExpressionSyntax>())
            {
                if (literal.Token.Value is string text && text.Contains("[Guarded", StringComparison.Ordinal))
                {
                    sources[$"{file}#{number++}"] = text.Contains("using LlmGuard;", StringComparison.Ordinal) ? text : InlineUsings + text;
                }
            }
        }

        return sources;
    }
}
