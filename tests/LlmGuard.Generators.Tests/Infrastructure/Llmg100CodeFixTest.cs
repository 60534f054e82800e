using System;
using System.Collections.Generic;
using LlmGuard.CodeFixes;
using LlmGuard.Generators.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace LlmGuard.Generators.Tests.Infrastructure;

/// <summary>
/// <see cref="MoveCallIntoGuardedMethodCodeFix"/> under Microsoft.CodeAnalysis.Testing, with
/// <see cref="GuardedGenerator"/> running on both sides: the fixed code declares a [Guarded] partial method that only
/// the generator completes, so it must compile, without warnings, once the generator has run, and report no LLMG100.
/// </summary>
/// <remarks>References as in <see cref="Llmg100Test"/>, for the same reason.</remarks>
internal sealed class Llmg100CodeFixTest : CSharpCodeFixTest<UnguardedLlmCallAnalyzer, MoveCallIntoGuardedMethodCodeFix, DefaultVerifier>
{
    /// <param name="source">The source with its LLMG100 marked up.</param>
    /// <param name="fixedSource">The source after the fix, or <see langword="null"/> when the fix must not be offered.</param>
    public Llmg100CodeFixTest(string source, string? fixedSource)
    {
        TestCode = source;
        FixedCode = fixedSource ?? source;
        ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        TestState.AdditionalReferences.AddRange(AnalyzerHarness.References(withSdks: true));
        CompilerDiagnostics = CompilerDiagnostics.Warnings;

        // The generated files are checked by the snapshot tests; here they only complete the fixed code.
        TestBehaviors |= TestBehaviors.SkipGeneratedSourcesCheck;
        SolutionTransforms.Add((solution, projectId) =>
        {
            var options = (CSharpCompilationOptions)solution.GetProject(projectId)!.CompilationOptions!;
            return solution
                .WithProjectCompilationOptions(projectId, options
                    .WithNullableContextOptions(NullableContextOptions.Enable)
                    .WithSpecificDiagnosticOptions(options.SpecificDiagnosticOptions.SetItems(GeneratorHarness.SdkSuppressions)))
                .WithProjectParseOptions(projectId, GeneratorHarness.ParseOptions);
        });
    }

    protected override IEnumerable<Type> GetSourceGenerators() => new[] { typeof(GuardedGenerator) };
}
