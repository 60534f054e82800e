using System;
using System.Text.RegularExpressions;
using LlmGuard.Generators.Tests.Infrastructure;

namespace LlmGuard.Generators.Tests;

/// <summary>
/// What a cached method hands to the runtime: its CacheSeconds and a version of its signature and result type, so a
/// deploy that changes either never reads an answer stored by the previous build.
/// </summary>
public sealed class CacheEmissionTests
{
    private const string Usings = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using LlmGuard;

        """;

    private static string Declaration(string parameterType = "string", string resultMembers = "string Text", string key = "{$user}:{question}") => Usings + $$"""
        namespace Demo;

        public sealed record Answer({{resultMembers}});

        public partial class Assistant
        {
            [Guarded(Scene = "faq", Key = "{{key}}", CacheSeconds = 600)]
            public partial Task<Answer> AskAsync({{parameterType}} question, CancellationToken cancellationToken);

            private Task<Answer> AskCoreAsync({{parameterType}} question, CancellationToken cancellationToken) =>
                throw new NotSupportedException();
        }
        """;

    [Fact]
    public void A_cached_method_passes_its_CacheSeconds_and_a_version_to_the_runtime()
    {
        GeneratorRun run = GeneratorHarness.Run(Declaration());

        run.AssertClean();
        Assert.Matches("cacheSeconds: 600, cacheVersion: \"[0-9a-f]{16}\"\\);", run.SingleSource());
        Snapshot.VerifyGenerated(run.SingleSource(), "CachedMethod");
    }

    [Fact]
    public void A_method_without_CacheSeconds_passes_no_cache_arguments()
    {
        GeneratorRun run = GeneratorHarness.Run(Declaration().Replace(", CacheSeconds = 600", string.Empty, StringComparison.Ordinal));

        run.AssertClean();
        Assert.DoesNotContain("cacheSeconds", run.SingleSource(), StringComparison.Ordinal);
        Assert.DoesNotContain("cacheVersion", run.SingleSource(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_version_is_the_same_in_every_build_of_the_same_declaration()
    {
        Assert.Equal(Version(Declaration()), Version(Declaration()));
    }

    [Theory]
    [InlineData("int", "string Text")]
    [InlineData("string", "string Text, int Confidence")]
    [InlineData("string", "int Text")]
    public void A_changed_parameter_or_result_shape_changes_the_version(string parameterType, string resultMembers)
    {
        Assert.NotEqual(Version(Declaration()), Version(Declaration(parameterType, resultMembers)));
    }

    [Fact]
    public void A_changed_key_template_changes_the_version()
    {
        Assert.NotEqual(Version(Declaration()), Version(Declaration(key: "{question}:{$user}")));
    }

    [Fact]
    public void The_scene_manifest_carries_CacheSeconds_of_a_cached_method()
    {
        GeneratorRun run = GeneratorHarness.Run(Declaration());

        Assert.Contains("mergeMaxWaitMs: 0, cacheSeconds: 600)", run.SceneManifest, StringComparison.Ordinal);
    }

    private static string Version(string source)
    {
        GeneratorRun run = GeneratorHarness.Run(source);
        run.AssertClean();
        return Regex.Match(run.SingleSource(), "cacheVersion: \"([0-9a-f]+)\"").Groups[1].Value;
    }
}
