using System;
using LlmGuard.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace LlmGuard.Generators.Tests;

/// <summary>[Guarded] methods returning IAsyncEnumerable&lt;T&gt;: the generated stream, and LLMG031 for settings streams do not support yet.</summary>
public sealed class StreamingMethodTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Runtime.CompilerServices;
        using System.Threading;
        using System.Threading.Tasks;
        using LlmGuard;

        """;

    [Fact]
    public void A_streaming_method_shares_one_stream_per_key_through_GuardedStreamMethod()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo;

            public partial class StreamingAssistant
            {
                [Guarded(Scene = "answers", Key = "{userId}:{question}", TimeoutMs = 5000, MaxRetries = 1)]
                public partial IAsyncEnumerable<string> AnswerAsync(string userId, string question, CancellationToken cancellationToken);

                private async IAsyncEnumerable<string> AnswerCoreAsync(string userId, string question, [EnumeratorCancellation] CancellationToken cancellationToken)
                {
                    await Task.Yield();
                    yield return userId;
                    yield return question;
                }
            }
            """);

        run.AssertClean();
        Snapshot.VerifyGenerated(run.Source("Demo.StreamingAssistant.Guarded.g.cs"), "StreamingMethod");
    }

    [Theory]
    [InlineData("MergeWindowMs = 500", "500", "sets MergeWindowMs = 500, which is not supported for streaming methods yet")]
    [InlineData("CacheSeconds = 60", "60", "sets CacheSeconds = 60, which is not supported for streaming methods yet")]
    [InlineData("SingleFlight = false", "false", "sets SingleFlight = false")]
    [InlineData("MaxConcurrency = 4", "4", "sets MaxConcurrency = 4")]
    [InlineData("Fallback = nameof(Other)", "nameof(Other)", "sets Fallback = \"Other\"")]
    public void A_setting_streams_do_not_support_yet_reports_LLMG031_at_its_value(string arguments, string locatedText, string phrase)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public partial class Assistant
            {
                [Guarded(Scene = "answers", Key = "{question}", {{arguments}})]
                public partial IAsyncEnumerable<string> AnswerAsync(string question, CancellationToken cancellationToken);

                private IAsyncEnumerable<string> AnswerCoreAsync(string question, CancellationToken cancellationToken) => throw new NotImplementedException();

                private IAsyncEnumerable<string> Other(string question) => throw new NotImplementedException();
            }
            """);

        Assert.False(run.GeneratorThrew, run.Describe());
        Diagnostic diagnostic = run.SingleDiagnostic("LLMG031");
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(locatedText, run.LocatedText(diagnostic));
        Assert.Contains("'Assistant.AnswerAsync' returns IAsyncEnumerable<T>", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains(phrase, diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(Diagnostics.DiagnosticDescriptors.HelpLinkBase + "LLMG031.md", diagnostic.Descriptor.HelpLinkUri);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void Static_generic_streaming_methods_without_a_token_compile_cleanly()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public static partial class Feeds<TItem>
            {
                [Guarded(Scene = "feed", Key = "{name}")]
                public static partial IAsyncEnumerable<TItem> ReadAsync(string name);

                [Guarded(Scene = "feed-of", Key = "{name}")]
                public static partial IAsyncEnumerable<TOther> ReadOfAsync<TOther>(string name, CancellationToken cancellationToken);

                private static async IAsyncEnumerable<TItem> ReadCoreAsync(string name)
                {
                    await Task.Yield();
                    yield break;
                }

                private static async IAsyncEnumerable<TOther> ReadOfCoreAsync<TOther>(string name, [EnumeratorCancellation] CancellationToken cancellationToken)
                {
                    await Task.Yield();
                    yield break;
                }
            }
            """);

        run.AssertClean();
        Assert.Contains("return guard.Stream(", run.SingleSource(), StringComparison.Ordinal);
        Assert.Contains("default);", run.SingleSource(), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unsupported_return_type_names_IAsyncEnumerable_among_the_shapes()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded]
                public partial IEnumerable<string> AnswerAsync(string question);

                private IEnumerable<string> AnswerCoreAsync(string question) => [];
            }
            """);

        Diagnostic diagnostic = run.SingleDiagnostic("LLMG003");
        Assert.Contains("Task<T>, ValueTask<T>, Task, ValueTask or IAsyncEnumerable<T>", diagnostic.GetMessage(), StringComparison.Ordinal);
    }
}
