using System.Collections.Generic;
using LlmGuard.Generators.Analyzers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Testing;
using Microsoft.CodeAnalysis.Testing;

namespace LlmGuard.Generators.Tests.Infrastructure;

/// <summary>
/// <see cref="UnguardedLlmCallAnalyzer"/> under Microsoft.CodeAnalysis.Testing: expected diagnostics are written in the
/// source as <c>{|LLMG100:call|}</c>, and any other diagnostic (a compiler error included) fails the test.
/// </summary>
/// <remarks>
/// The references are the test host's own assemblies (as in <see cref="GeneratorHarness"/>), not a
/// <see cref="ReferenceAssemblies"/> package: the compilation must bind the LlmGuard runtime built for net10.0 and
/// the model SDKs restored for this project, and the registry serves no Microsoft.NETCore.App.Ref that
/// <c>ReferenceAssemblies.Net.Net100</c> asks for (it fails to resolve 10.0.1).
/// </remarks>
internal sealed class Llmg100Test : CSharpAnalyzerTest<UnguardedLlmCallAnalyzer, DefaultVerifier>
{
    public Llmg100Test(string source, bool withSdks = true, string? editorConfigApis = null)
    {
        TestCode = source;
        ReferenceAssemblies = new ReferenceAssemblies("net10.0");
        TestState.AdditionalReferences.AddRange(AnalyzerHarness.References(withSdks));
        if (editorConfigApis is not null)
        {
            TestState.AnalyzerConfigFiles.Add(("/.editorconfig", $"root = true\n\n[*.cs]\n{UnguardedLlmCallAnalyzer.ApisOption} = {editorConfigApis}\n"));
        }

        SolutionTransforms.Add((solution, projectId) =>
        {
            var options = (CSharpCompilationOptions)solution.GetProject(projectId)!.CompilationOptions!;
            return solution
                .WithProjectCompilationOptions(projectId, options
                    .WithNullableContextOptions(NullableContextOptions.Enable)
                    // OpenAI's Responses client is marked experimental.
                    .WithSpecificDiagnosticOptions(options.SpecificDiagnosticOptions
                        .SetItems(GeneratorHarness.SdkSuppressions)
                        .SetItem("OPENAI001", ReportDiagnostic.Suppress)))
                .WithProjectParseOptions(projectId, GeneratorHarness.ParseOptions);
        });
    }

    /// <summary>Adds a file the compiler treats as generated (an <c>&lt;auto-generated/&gt;</c> header).</summary>
    public Llmg100Test WithGeneratedFile(string source)
    {
        TestState.Sources.Add(("/0/Generated.cs", source));
        return this;
    }
}
