using System;
using LlmGuard.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace LlmGuard.Generators.Tests;

/// <summary>
/// [SemanticCacheText]: what a method with a compared text hands to the runtime (its scope, built like its key without
/// the text, and the text), and LLMG026 for a marking that could not work.
/// </summary>
public sealed class SemanticCacheTextTests
{
    private const string Usings = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using LlmGuard;

        namespace Demo;

        """;

    private static string Assistant(string attribute, string parameters, string coreParameters) => Usings + $$"""
        public sealed record Answer(string Text);

        public partial class Assistant
        {
            [Guarded({{attribute}})]
            public partial Task<Answer> AskAsync({{parameters}});

            private Task<Answer> AskCoreAsync({{coreParameters}}) => throw new NotSupportedException();
        }
        """;

    [Fact]
    public void A_marked_question_is_passed_with_a_scope_built_from_every_other_key_part()
    {
        GeneratorRun run = GeneratorHarness.Run(Assistant(
            "Scene = \"faq\", Key = \"{$tenant}:{topic}:{question}\", CacheSeconds = 600",
            "string topic, [SemanticCacheText] string question, CancellationToken cancellationToken",
            "string topic, string question, CancellationToken cancellationToken"));

        run.AssertClean();
        string source = run.SingleSource();
        Assert.Contains("semantic: new global::LlmGuard.Caching.SemanticQuery(__AskAsync_SemanticScope(topic), question),", source, StringComparison.Ordinal);
        Assert.Contains("private static string __AskAsync_SemanticScope(string topic)", source, StringComparison.Ordinal);
        Snapshot.VerifyGenerated(source, "SemanticCachedMethod");
    }

    [Fact]
    public void The_scope_of_an_implicit_key_leaves_out_only_the_marked_parameter()
    {
        GeneratorRun run = GeneratorHarness.Run(Assistant(
            "CacheSeconds = 60",
            "[CachePartition] string customerId, [SemanticCacheText] string question",
            "string customerId, string question"));

        run.AssertClean();
        string source = run.SingleSource();
        Assert.Contains("__AskAsync_SemanticScope(customerId), question)", source, StringComparison.Ordinal);
        Assert.Contains("private static string __AskAsync_Key(string customerId, string question)", source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_generic_method_of_a_generic_type_passes_its_type_arguments_to_the_scope_method()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant<TContext>
            {
                [Guarded(Key = "{$user}:{context}:{question}", CacheSeconds = 60)]
                public partial Task<TAnswer> AskAsync<TAnswer>(int context, [SemanticCacheText] string question)
                    where TAnswer : class;

                private Task<TAnswer> AskCoreAsync<TAnswer>(int context, string question)
                    where TAnswer : class => throw new NotSupportedException();
            }
            """);

        run.AssertClean();
        Assert.Contains("semantic: new global::LlmGuard.Caching.SemanticQuery(__AskAsync_SemanticScope<TAnswer>(context), question),", run.SingleSource(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_scene_manifest_says_which_methods_have_a_compared_text()
    {
        GeneratorRun run = GeneratorHarness.Run(Assistant(
            "Scene = \"faq\", Key = \"{$user}:{question}\", CacheSeconds = 600",
            "[SemanticCacheText] string question",
            "string question"));

        run.AssertClean();
        Assert.Contains("cacheSeconds: 600, semanticText: true)", run.SceneManifest, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cached_method_without_a_marked_parameter_passes_no_semantic_query()
    {
        GeneratorRun run = GeneratorHarness.Run(Assistant(
            "Scene = \"faq\", Key = \"{$user}:{question}\", CacheSeconds = 600",
            "string question",
            "string question"));

        run.AssertClean();
        Assert.DoesNotContain("semantic", run.SingleSource(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("semanticText", run.SceneManifest, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Key = \"{$user}:{id}\", CacheSeconds = 60", "[SemanticCacheText] int id", "int id", "id", "it is of type 'int', and only a string's text is embedded")]
    [InlineData("Key = \"{$user}:{question}\"", "[SemanticCacheText] string question", "string question", "question", "the method caches nothing")]
    [InlineData("Key = \"{$user}:{topic}\", CacheSeconds = 60", "string topic, [SemanticCacheText] string question", "string topic, string question", "question", "it is not in the key")]
    [InlineData("Key = \"{$user}\", CacheSeconds = 60", "[SemanticCacheText, NotInKey] string question", "string question", "question", "it is not in the key")]
    [InlineData("Key = \"{$user}:{topic}:{question}\", CacheSeconds = 60", "[SemanticCacheText] string topic, [SemanticCacheText] string question", "string topic, string question", "question", "'topic' is marked too")]
    public void A_marking_that_cannot_be_compared_reports_LLMG026_at_the_parameter(string attribute, string parameters, string coreParameters, string located, string reason)
    {
        GeneratorRun run = GeneratorHarness.Run(Assistant(attribute, parameters, coreParameters));

        Assert.False(run.GeneratorThrew, run.Describe());
        Diagnostic diagnostic = run.SingleDiagnostic("LLMG026");
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(located, run.LocatedText(diagnostic));
        Assert.Contains(reason, diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.StartsWith(Diagnostics.DiagnosticDescriptors.HelpLinkBase, diagnostic.Descriptor.HelpLinkUri, StringComparison.Ordinal);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void A_marking_on_a_method_without_singleflight_reports_LLMG026_beside_LLMG013()
    {
        GeneratorRun run = GeneratorHarness.Run(Assistant(
            "SingleFlight = false, CacheSeconds = 60",
            "[SemanticCacheText] string question",
            "string question"));

        Assert.Contains("SingleFlight", run.SingleDiagnostic("LLMG013").GetMessage(), StringComparison.Ordinal);
        Assert.Contains("SingleFlight = false", run.SingleDiagnostic("LLMG026").GetMessage(), StringComparison.Ordinal);
        Assert.Equal("question", run.LocatedText(run.SingleDiagnostic("LLMG026")));
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void The_marked_parameter_is_in_the_key_so_a_core_reading_it_reports_no_LLMG024()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{$user}:{question}", CacheSeconds = 60)]
                public partial Task<string> AskAsync([SemanticCacheText] string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        run.AssertClean();
    }
}
