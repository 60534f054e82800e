using System;
using LlmGuard.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace LlmGuard.Generators.Tests;

/// <summary>[Guarded(MaxConcurrency = …, BreakerFailureRatio = …)]: range checks, and the constants the generated code passes on.</summary>
public sealed class ProtectionAttributeTests
{
    private const string Usings = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using LlmGuard;

        """;

    [Theory]
    [InlineData("-1", "MaxConcurrency = -1 on 'Assistant.AskAsync' is out of range")]
    [InlineData("int.MinValue", "use 0 for no limit")]
    public void A_negative_MaxConcurrency_reports_LLMG029_at_the_value(string value, string phrase)
    {
        GeneratorRun run = Run($"MaxConcurrency = {value}");

        AssertReported(run, "LLMG029", value, phrase);
        run.AssertOutputCompilesCleanly();
    }

    [Theory]
    [InlineData("-0.1", "BreakerFailureRatio = -0.1 on 'Assistant.AskAsync' is out of range")]
    [InlineData("1.5", "BreakerFailureRatio = 1.5 on 'Assistant.AskAsync' is out of range")]
    [InlineData("double.NaN", "BreakerFailureRatio = NaN on 'Assistant.AskAsync' is out of range")]
    public void A_BreakerFailureRatio_outside_0_to_1_reports_LLMG030_at_the_value(string value, string phrase)
    {
        GeneratorRun run = Run($"BreakerFailureRatio = {value}");

        AssertReported(run, "LLMG030", value, phrase);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void The_constants_reach_the_methods_description_and_the_scene_manifest()
    {
        GeneratorRun run = Run("MaxConcurrency = 8, BreakerFailureRatio = 0.25");

        run.AssertClean();
        Assert.Contains(", maxConcurrency: 8, breakerFailureRatio: 0.25);", run.SingleSource(), StringComparison.Ordinal);
        Assert.Contains(", breakerFailureRatio: 0.25)", run.SceneManifest, StringComparison.Ordinal);
    }

    [Fact]
    public void Zero_means_no_limit_and_no_breaker_and_writes_nothing()
    {
        GeneratorRun run = Run("MaxConcurrency = 0, BreakerFailureRatio = 0");

        run.AssertClean();
        Assert.DoesNotContain("maxConcurrency", run.SingleSource(), StringComparison.Ordinal);
        Assert.DoesNotContain("breakerFailureRatio", run.SingleSource(), StringComparison.Ordinal);
        Assert.DoesNotContain("breakerFailureRatio", run.SceneManifest, StringComparison.Ordinal);
    }

    private static GeneratorRun Run(string arguments) => GeneratorHarness.Run(Usings + $$"""
        public partial class Assistant
        {
            [Guarded(Scene = "answers", {{arguments}})]
            public partial Task<string> AskAsync(string question);

            private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
        }
        """);

    private static void AssertReported(GeneratorRun run, string id, string locatedText, string messagePhrase)
    {
        Assert.False(run.GeneratorThrew, run.Describe());
        Diagnostic diagnostic = run.SingleDiagnostic(id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(locatedText, run.LocatedText(diagnostic));
        Assert.Contains(messagePhrase, diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(Diagnostics.DiagnosticDescriptors.HelpLinkBase + id + ".md", diagnostic.Descriptor.HelpLinkUri);
    }
}
