using System;
using System.Collections.Generic;
using System.Linq;
using LlmGuard.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace LlmGuard.Generators.Tests.Robustness;

/// <summary>Random declarations, from fixed seeds: the generator never throws, and never leaves a declaration unexplained.</summary>
public sealed class RandomDeclarationTests
{
    private const int FirstSeed = 7_000;
    private const int Cases = 300;

    [Fact]
    public void Random_declarations_never_make_the_generator_throw_and_always_get_source_or_a_diagnostic()
    {
        var failures = new List<string>();
        int cleanlyGenerated = 0;
        int reportedByLlmGuard = 0;
        for (int seed = FirstSeed; seed < FirstSeed + Cases; seed++)
        {
            string source = RandomDeclaration.Create(seed);
            GeneratorRun run = GeneratorHarness.Run(source, RandomDeclaration.SupportTypes);
            string? problem = Check(run, source, ref cleanlyGenerated, ref reportedByLlmGuard);
            if (problem is not null)
            {
                failures.Add($"Seed {seed} (reproduce with RandomDeclaration.Create({seed})): {problem}\n---- source\n{source}\n---- run\n{run.Describe()}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {Cases} cases failed. The first:\n\n" + string.Join("\n\n", failures.Take(3)));

        // Guards against a generator of declarations that stopped reaching the emitter or the diagnostics.
        Assert.True(
            cleanlyGenerated >= 60 && reportedByLlmGuard >= 60,
            $"{cleanlyGenerated} cases generated source without any error and {reportedByLlmGuard} got an LLMG diagnostic; expected at least 60 of each.");
    }

    [Fact]
    public void The_same_seed_writes_the_same_declaration()
    {
        Assert.Equal(RandomDeclaration.Create(FirstSeed), RandomDeclaration.Create(FirstSeed));
        Assert.NotEqual(RandomDeclaration.Create(FirstSeed), RandomDeclaration.Create(FirstSeed + 1));
    }

    private static string? Check(GeneratorRun run, string source, ref int cleanlyGenerated, ref int reportedByLlmGuard)
    {
        if (run.GeneratorThrew)
        {
            return "the generator threw";
        }

        // CS8795 (a partial method without implementation) is what the generator exists to resolve.
        bool inputHasErrors = run.Input.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error && d.Id != "CS8795");
        Diagnostic[] llmg = run.GeneratorDiagnostics.Where(d => d.Id.StartsWith("LLMG", StringComparison.Ordinal)).ToArray();
        Diagnostic[] llmgErrors = llmg.Where(d => d.Severity == DiagnosticSeverity.Error).ToArray();
        reportedByLlmGuard += llmg.Length > 0 ? 1 : 0;

        if (run.GeneratedSources.IsEmpty && llmg.Length == 0 && !inputHasErrors)
        {
            return "valid input, yet neither generated source nor an LLMG diagnostic";
        }

        if (inputHasErrors)
        {
            return null;
        }

        if (llmgErrors.Length == 0)
        {
            if (run.GeneratedSources.IsEmpty)
            {
                return "no LLMG error, yet no generated source";
            }

            Diagnostic[] generatedProblems = run.OutputDiagnostics
                .Where(d => d.Severity == DiagnosticSeverity.Error || d.Location.SourceTree?.FilePath.Contains("LlmGuard.Generators", StringComparison.Ordinal) == true)
                .ToArray();
            if (generatedProblems.Length > 0)
            {
                return "accepted declaration, yet the output has errors or the generated code has warnings";
            }

            cleanlyGenerated++;
            return null;
        }

        // Declarations that cannot be stubbed: not partial-definition shaped, unsupported kinds, and pointer parameters.
        bool stubbable = !llmgErrors.Any(d => d.Id is "LLMG001" or "LLMG002" or "LLMG017") && !source.Contains('*', StringComparison.Ordinal);
        if (stubbable && !run.OutputErrors.IsEmpty)
        {
            return "the declaration's errors are LlmGuard's alone, yet its stub leaves errors in the output";
        }

        return null;
    }
}
