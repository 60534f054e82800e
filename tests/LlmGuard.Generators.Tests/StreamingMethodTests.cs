using System;
using LlmGuard.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace LlmGuard.Generators.Tests;

/// <summary>[Guarded] methods returning IAsyncEnumerable&lt;T&gt;: the generated stream and its settings, LLMG031 for merge settings, LLMG032 for stream settings on other methods.</summary>
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

    [Fact]
    public void A_cached_stream_with_a_fallback_and_an_unshared_stream_falling_back_to_it_read_as_written_by_hand()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo;

            public partial class StreamingDesk
            {
                [Guarded(Scene = "desk-answers", Key = "{$user}:{question}", CacheSeconds = 300, FirstItemTimeoutMs = 3000, IdleTimeoutMs = 10000,
                    StreamReplayItems = 512, Fallback = nameof(CannedAnswer))]
                public partial IAsyncEnumerable<string> AnswerAsync(string question, CancellationToken cancellationToken);

                [Guarded(Scene = "desk-drafts", SingleFlight = false, Fallback = nameof(AnswerAsync))]
                public partial IAsyncEnumerable<string> DraftAsync(string question, CancellationToken cancellationToken);

                private async IAsyncEnumerable<string> AnswerCoreAsync(string question, [EnumeratorCancellation] CancellationToken cancellationToken)
                {
                    await Task.Yield();
                    yield return question;
                }

                private async IAsyncEnumerable<string> DraftCoreAsync(string question, [EnumeratorCancellation] CancellationToken cancellationToken)
                {
                    await Task.Yield();
                    yield return question;
                }

                private static async IAsyncEnumerable<string> CannedAnswer(string question, Exception exception)
                {
                    await Task.Yield();
                    yield return "Sorry, I can't answer right now.";
                }
            }
            """);

        run.AssertClean();
        Snapshot.VerifyGenerated(run.Source("Demo.StreamingDesk.Guarded.g.cs"), "StreamingFallbackCacheUnshared");
    }

    [Theory]
    [InlineData("MergeWindowMs = 500", "500", "sets MergeWindowMs = 500, but a merge window holds each call")]
    [InlineData("Supersede = true", "true", "sets Supersede = true")]
    [InlineData("MergeMaxWaitMs = 900", "900", "sets MergeMaxWaitMs = 900")]
    [InlineData("MergeMode = MergeMode.Sliding", "MergeMode.Sliding", "sets MergeMode = MergeMode.Sliding")]
    public void A_merge_setting_on_a_stream_reports_LLMG031_at_its_value_with_the_reason(string arguments, string locatedText, string phrase)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public partial class Assistant
            {
                [Guarded(Scene = "answers", Key = "{question}", {{arguments}})]
                public partial IAsyncEnumerable<string> AnswerAsync(string question, CancellationToken cancellationToken);

                private IAsyncEnumerable<string> AnswerCoreAsync(string question, CancellationToken cancellationToken) => throw new NotImplementedException();
            }
            """);

        Assert.False(run.GeneratorThrew, run.Describe());
        Diagnostic diagnostic = run.SingleDiagnostic("LLMG031");
        Assert.Equal(["LLMG031"], run.GeneratorDiagnosticIds());
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(locatedText, run.LocatedText(diagnostic));
        Assert.Contains("'Assistant.AnswerAsync' returns IAsyncEnumerable<T>", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains(phrase, diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains("adds directly to the time to the first item", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Equal(Diagnostics.DiagnosticDescriptors.HelpLinkBase + "LLMG031.md", diagnostic.Descriptor.HelpLinkUri);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void A_MergeAppend_parameter_of_a_stream_reports_LLMG031_at_the_parameter()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Scene = "answers", Key = "{conversationId}")]
                public partial IAsyncEnumerable<string> AnswerAsync(string conversationId, [MergeAppend] string message, CancellationToken cancellationToken);

                private IAsyncEnumerable<string> AnswerCoreAsync(string conversationId, string message, CancellationToken cancellationToken) => throw new NotImplementedException();
            }
            """);

        Diagnostic diagnostic = run.SingleDiagnostic("LLMG031");
        Assert.Equal("message", run.LocatedText(diagnostic));
        Assert.Contains("sets [MergeAppend] on parameter 'message'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.DoesNotContain("LLMG019", run.GeneratorDiagnosticIds());
        run.AssertOutputCompilesCleanly();
    }

    [Theory]
    [InlineData("TimeoutMs = 5000", 5000, 5000)]
    [InlineData("TimeoutMs = 5000, FirstItemTimeoutMs = 2000", 2000, 5000)]
    [InlineData("TimeoutMs = 5000, IdleTimeoutMs = 1500", 5000, 1500)]
    [InlineData("FirstItemTimeoutMs = 0, IdleTimeoutMs = 0", 0, 0)]
    [InlineData("", 30000, 30000)]
    public void The_stream_deadlines_take_their_own_setting_else_TimeoutMs(string arguments, int firstItem, int idle)
    {
        string source = StreamSource(arguments);

        Assert.Contains($"firstItemTimeoutMs: {firstItem}, idleTimeoutMs: {idle}, ", source, StringComparison.Ordinal);
    }

    [Fact]
    public void StreamReplayItems_is_passed_only_when_it_differs_from_the_default()
    {
        Assert.Contains("retryDelayMs: 200, replayItems: 64);", StreamSource("StreamReplayItems = 64"), StringComparison.Ordinal);
        Assert.DoesNotContain("replayItems", StreamSource("StreamReplayItems = 4096"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("FirstItemTimeoutMs = 5", "FirstItemTimeoutMs = 5 is not valid", "use 0 for no limit, or a value from 10 to 86400000")]
    [InlineData("IdleTimeoutMs = -1", "IdleTimeoutMs = -1 is not valid", "use 0 for no limit, or a value from 10 to 86400000")]
    [InlineData("IdleTimeoutMs = 86400001", "IdleTimeoutMs = 86400001 is not valid", "use 0 for no limit")]
    [InlineData("StreamReplayItems = 0", "StreamReplayItems = 0 is not valid", "use a value from 1 to 1000000")]
    [InlineData("StreamReplayItems = 1000001", "StreamReplayItems = 1000001 is not valid", "use a value from 1 to 1000000")]
    public void A_stream_setting_out_of_range_reports_LLMG013_at_its_value(string arguments, string start, string rule)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public partial class Assistant
            {
                [Guarded(Key = "{question}", {{arguments}})]
                public partial IAsyncEnumerable<string> AnswerAsync(string question, CancellationToken cancellationToken);

                private IAsyncEnumerable<string> AnswerCoreAsync(string question, CancellationToken cancellationToken) => throw new NotImplementedException();
            }
            """);

        Diagnostic diagnostic = run.SingleDiagnostic("LLMG013");
        Assert.Equal(arguments.Substring(arguments.IndexOf('=') + 2), run.LocatedText(diagnostic));
        Assert.StartsWith(start, diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Contains(rule, diagnostic.GetMessage(), StringComparison.Ordinal);
        run.AssertOutputCompilesCleanly();
    }

    [Theory]
    [InlineData("FirstItemTimeoutMs = 2000", "2000")]
    [InlineData("IdleTimeoutMs = 1000", "1000")]
    [InlineData("StreamReplayItems = 64", "64")]
    // Out of range for a stream, but on this method only LLMG032 applies: not LLMG013 as well at the same place.
    [InlineData("StreamReplayItems = 0", "0")]
    [InlineData("FirstItemTimeoutMs = -1", "-1")]
    [InlineData("IdleTimeoutMs = 1", "1")]
    public void A_stream_setting_on_a_method_that_returns_a_task_reports_LLMG032_and_the_method_is_still_generated(string arguments, string locatedText)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public partial class Assistant
            {
                [Guarded(Key = "{question}", {{arguments}})]
                public partial Task<string> AnswerAsync(string question, CancellationToken cancellationToken);

                private Task<string> AnswerCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);
            }
            """);

        Diagnostic diagnostic = run.SingleDiagnostic("LLMG032");
        Assert.Equal(["LLMG032"], run.GeneratorDiagnosticIds());
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Equal(locatedText, run.LocatedText(diagnostic));
        string setting = arguments.Substring(0, arguments.IndexOf(' '));
        Assert.Equal(
            $"{setting} applies only to streaming methods, and 'Assistant.AnswerAsync' returns 'Task<string>', so it has no effect; remove it, or return IAsyncEnumerable<T> to stream the answer",
            diagnostic.GetMessage());
        Assert.Equal(Diagnostics.DiagnosticDescriptors.HelpLinkBase + "LLMG032.md", diagnostic.Descriptor.HelpLinkUri);
        Assert.Contains("guard.RunAsync(", run.SingleSource(), StringComparison.Ordinal);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void A_cached_stream_passes_its_cache_seconds_and_a_version_of_its_item_array()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{$user}:{question}", CacheSeconds = 120)]
                public partial IAsyncEnumerable<string> AnswerAsync(string question, CancellationToken cancellationToken);

                private IAsyncEnumerable<string> AnswerCoreAsync(string question, CancellationToken cancellationToken) => throw new NotImplementedException();
            }
            """);

        run.AssertClean();
        Assert.Matches(@"cacheSeconds: 120, cacheVersion: ""[0-9a-f]{16}""\);", run.SingleSource());
    }

    [Fact]
    public void The_cache_version_of_a_stream_changes_with_its_item_type()
    {
        static string Version(string item) => System.Text.RegularExpressions.Regex.Match(
            GeneratorHarness.Run(Usings + $$"""
                public partial class Assistant
                {
                    [Guarded(Key = "{$user}:{question}", CacheSeconds = 120)]
                    public partial IAsyncEnumerable<{{item}}> AnswerAsync(string question);

                    private IAsyncEnumerable<{{item}}> AnswerCoreAsync(string question) => throw new NotImplementedException();
                }
                """).SingleSource(),
            @"cacheVersion: ""([0-9a-f]{16})""").Groups[1].Value;

        Assert.NotEqual(Version("string"), Version("int"));
        Assert.Equal(Version("string"), Version("string"));
    }

    [Fact]
    public void The_cache_version_of_a_stream_changes_with_the_shape_of_its_items()
    {
        static string Version(string itemMembers) => System.Text.RegularExpressions.Regex.Match(
            GeneratorHarness.Run(Usings + $$"""
                public sealed record Chunk({{itemMembers}});

                public partial class Assistant
                {
                    [Guarded(Key = "{$user}:{question}", CacheSeconds = 120)]
                    public partial IAsyncEnumerable<Chunk> AnswerAsync(string question);

                    private IAsyncEnumerable<Chunk> AnswerCoreAsync(string question) => throw new NotImplementedException();
                }
                """).SingleSource(),
            @"cacheVersion: ""([0-9a-f]{16})""").Groups[1].Value;

        Assert.NotEqual(Version("string Text"), Version("string Text, int Index"));
        Assert.NotEqual(Version("string Text"), Version("int Text"));
    }

    [Fact]
    public void A_cached_generic_stream_versions_its_cache_with_its_type_arguments()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Feeds<TItem>
            {
                [Guarded(Key = "{$user}:{name}", CacheSeconds = 60)]
                public partial IAsyncEnumerable<TOther> ReadAsync<TOther>(string name, CancellationToken cancellationToken);

                private async IAsyncEnumerable<TOther> ReadCoreAsync<TOther>(string name, [EnumeratorCancellation] CancellationToken cancellationToken)
                {
                    await Task.Yield();
                    yield break;
                }
            }
            """);

        run.AssertClean();
        Assert.Matches(
            @"cacheVersion: global::LlmGuard\.Infrastructure\.GuardedMethod\.CacheVersionOf\(""[0-9a-f]{16}"", typeof\(global::Feeds<TItem>\), typeof\(TOther\)\)\);",
            run.SingleSource());
    }

    [Fact]
    public void A_cached_stream_gets_the_cached_key_diagnostics_of_a_cached_call()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{question}", CacheSeconds = 120)]
                public partial IAsyncEnumerable<string> AnswerAsync(string question, [NotInKey] string tone, CancellationToken cancellationToken);

                private async IAsyncEnumerable<string> AnswerCoreAsync(string question, string tone, [EnumeratorCancellation] CancellationToken cancellationToken)
                {
                    await Task.Yield();
                    yield return tone + question;
                }
            }
            """);

        Assert.Equal(["LLMG024", "LLMG025"], run.GeneratorDiagnosticIds());
        Assert.Equal("tone", run.LocatedText(run.SingleDiagnostic("LLMG024")));
    }

    [Fact]
    public void A_stream_with_SemanticCacheText_reports_LLMG026()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{$user}:{question}", CacheSeconds = 120)]
                public partial IAsyncEnumerable<string> AnswerAsync([SemanticCacheText] string question);

                private IAsyncEnumerable<string> AnswerCoreAsync(string question) => throw new NotImplementedException();
            }
            """);

        Diagnostic diagnostic = run.SingleDiagnostic("LLMG026");
        Assert.Contains("the method streams its answer", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void MaxConcurrency_and_BreakerFailureRatio_of_a_stream_are_passed_to_its_method()
    {
        string source = StreamSource("MaxConcurrency = 4, BreakerFailureRatio = 0.5");

        Assert.Contains("retryDelayMs: 200, maxConcurrency: 4, breakerFailureRatio: 0.5);", source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stream_without_SingleFlight_streams_unshared_and_builds_no_key()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(SingleFlight = false)]
                public partial IAsyncEnumerable<string> AnswerAsync(string question, CancellationToken cancellationToken);

                private IAsyncEnumerable<string> AnswerCoreAsync(string question, CancellationToken cancellationToken) => throw new NotImplementedException();
            }
            """);

        run.AssertClean();
        string source = run.SingleSource();
        Assert.Contains("return guard.StreamUnshared(", source, StringComparison.Ordinal);
        Assert.Contains("new __AnswerAsync_Arguments(this, question),", source, StringComparison.Ordinal);
        Assert.DoesNotContain("__AnswerAsync_Key", source, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("private IAsyncEnumerable<string> Canned(string question) => throw new NotImplementedException();", "arguments.Self.Canned(arguments.question)")]
    [InlineData("private static IAsyncEnumerable<string> Canned(string question, Exception exception) => throw new NotImplementedException();", "Canned(arguments.question, exception)")]
    [InlineData("private IAsyncEnumerable<string> Canned(string question, CancellationToken cancellationToken, Exception exception) => throw new NotImplementedException();", "arguments.Self.Canned(arguments.question, upstreamToken, exception)")]
    public void A_stream_fallback_that_returns_IAsyncEnumerable_is_called_with_the_arguments_of_the_stream(string fallback, string call)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public partial class Assistant
            {
                [Guarded(Key = "{question}", Fallback = nameof(Canned))]
                public partial IAsyncEnumerable<string> AnswerAsync(string question, CancellationToken cancellationToken);

                private IAsyncEnumerable<string> AnswerCoreAsync(string question, CancellationToken cancellationToken) => throw new NotImplementedException();

                {{fallback}}
            }
            """);

        run.AssertClean();
        Assert.Contains($"fallback: static (arguments, exception, upstreamToken) => {call},", run.SingleSource(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("private Task<string> Canned(string question) => Task.FromResult(question);")]
    [InlineData("private IAsyncEnumerable<int> Canned(string question) => throw new NotImplementedException();")]
    [InlineData("private IAsyncEnumerable<string> Canned(int question) => throw new NotImplementedException();")]
    public void A_stream_fallback_of_another_shape_reports_LLMG012_saying_it_must_return_IAsyncEnumerable(string fallback)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public partial class Assistant
            {
                [Guarded(Key = "{question}", Fallback = nameof(Canned))]
                public partial IAsyncEnumerable<string> AnswerAsync(string question, CancellationToken cancellationToken);

                private IAsyncEnumerable<string> AnswerCoreAsync(string question, CancellationToken cancellationToken) => throw new NotImplementedException();

                {{fallback}}
            }
            """);

        Diagnostic diagnostic = run.SingleDiagnostic("LLMG012");
        Assert.Equal("nameof(Canned)", run.LocatedText(diagnostic));
        Assert.Contains("return IAsyncEnumerable<string> (a stream's fallback must return IAsyncEnumerable<T>", diagnostic.GetMessage(), StringComparison.Ordinal);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void A_guarded_stream_as_fallback_forms_a_chain_with_its_scene()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Scene = "primary", Key = "{question}", Fallback = nameof(BackupAsync))]
                public partial IAsyncEnumerable<string> AnswerAsync(string question, CancellationToken cancellationToken);

                [Guarded(Scene = "backup", Key = "{question}")]
                public partial IAsyncEnumerable<string> BackupAsync(string question, CancellationToken cancellationToken);

                private IAsyncEnumerable<string> AnswerCoreAsync(string question, CancellationToken cancellationToken) => throw new NotImplementedException();

                private IAsyncEnumerable<string> BackupCoreAsync(string question, CancellationToken cancellationToken) => throw new NotImplementedException();
            }
            """);

        run.AssertClean();
        string source = run.SingleSource();
        Assert.Contains("retryDelayMs: 200, fallbackScene: \"backup\");", source, StringComparison.Ordinal);
        Assert.Contains("fallback: static (arguments, exception, upstreamToken) => arguments.Self.BackupAsync(arguments.question, upstreamToken),", source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_guarded_fallback_of_a_stream_that_returns_a_task_reports_LLMG027()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{question}", Fallback = nameof(BackupAsync))]
                public partial IAsyncEnumerable<string> AnswerAsync(string question, CancellationToken cancellationToken);

                [Guarded(Key = "{question}")]
                public partial Task<string> BackupAsync(string question, CancellationToken cancellationToken);

                private IAsyncEnumerable<string> AnswerCoreAsync(string question, CancellationToken cancellationToken) => throw new NotImplementedException();

                private Task<string> BackupCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);
            }
            """);

        Diagnostic diagnostic = run.SingleDiagnostic("LLMG027");
        Assert.Contains("and return IAsyncEnumerable<string>, as a streaming method does", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void Streams_whose_fallbacks_come_back_report_LLMG028()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{question}", Fallback = nameof(BackupAsync))]
                public partial IAsyncEnumerable<string> AnswerAsync(string question, CancellationToken cancellationToken);

                [Guarded(Key = "{question}", Fallback = nameof(AnswerAsync))]
                public partial IAsyncEnumerable<string> BackupAsync(string question, CancellationToken cancellationToken);

                private IAsyncEnumerable<string> AnswerCoreAsync(string question, CancellationToken cancellationToken) => throw new NotImplementedException();

                private IAsyncEnumerable<string> BackupCoreAsync(string question, CancellationToken cancellationToken) => throw new NotImplementedException();
            }
            """);

        Assert.Equal(["LLMG028", "LLMG028"], run.GeneratorDiagnosticIds());
        Assert.Contains("Assistant.AnswerAsync -> Assistant.BackupAsync -> Assistant.AnswerAsync", run.GeneratorDiagnostics[0].GetMessage() + run.GeneratorDiagnostics[1].GetMessage(), StringComparison.Ordinal);
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

    // The generated file of a streaming method with these extra [Guarded] arguments, which must generate cleanly.
    private static string StreamSource(string arguments)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public partial class Assistant
            {
                [Guarded(Key = "{question}"{{(arguments.Length == 0 ? "" : ", " + arguments)}})]
                public partial IAsyncEnumerable<string> AnswerAsync(string question, CancellationToken cancellationToken);

                private IAsyncEnumerable<string> AnswerCoreAsync(string question, CancellationToken cancellationToken) => throw new NotImplementedException();
            }
            """);

        run.AssertClean();
        return run.SingleSource();
    }
}
