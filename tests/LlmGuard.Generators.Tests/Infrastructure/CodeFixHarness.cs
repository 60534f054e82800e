using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.CodeFixes;
using LlmGuard.Generators.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace LlmGuard.Generators.Tests.Infrastructure;

/// <summary>Applies <see cref="MoveCallIntoGuardedMethodCodeFix"/> to the first LLMG100 in a source, in a real workspace.</summary>
internal static class CodeFixHarness
{
    /// <summary>The source after the fix, or <see langword="null"/> when the fix is not offered.</summary>
    public static async Task<string?> ApplyAsync(string source)
    {
        using var workspace = new AdhocWorkspace();
        ProjectInfo project = ProjectInfo.Create(
            ProjectId.CreateNewId(),
            VersionStamp.Default,
            "CodeFixTests",
            "CodeFixTests",
            LanguageNames.CSharp,
            compilationOptions: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable),
            parseOptions: GeneratorHarness.ParseOptions,
            metadataReferences: GeneratorHarness.ReferencePaths().Select(path => MetadataReference.CreateFromFile(path)));
        Document document = workspace.AddProject(project).AddDocument("Source0.cs", SourceText.From(source));

        Compilation compilation = (await document.Project.GetCompilationAsync())!;
        ImmutableArray<Diagnostic> diagnostics = await compilation
            .WithAnalyzers(ImmutableArray.Create<DiagnosticAnalyzer>(new UnguardedLlmCallAnalyzer()))
            .GetAnalyzerDiagnosticsAsync();
        Diagnostic diagnostic = diagnostics.First(d => d.Id == "LLMG100");

        var actions = new List<CodeAction>();
        var context = new CodeFixContext(document, diagnostic, (action, _) => actions.Add(action), CancellationToken.None);
        await new MoveCallIntoGuardedMethodCodeFix().RegisterCodeFixesAsync(context);
        if (actions.Count == 0)
        {
            return null;
        }

        ImmutableArray<CodeActionOperation> operations = await actions.Single().GetOperationsAsync(CancellationToken.None);
        Solution changed = operations.OfType<ApplyChangesOperation>().Single().ChangedSolution;
        return (await changed.GetDocument(document.Id)!.GetTextAsync()).ToString();
    }
}
