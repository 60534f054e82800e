using System;
using System.Linq;
using LlmGuard.Generators.Tests.Infrastructure;

namespace LlmGuard.Generators.Tests;

/// <summary>The generated source for representative declarations, checked against reviewed snapshots.</summary>
public sealed class GeneratedSourceSnapshotTests
{
    private const string Usings = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using LlmGuard;

        """;

    [Fact]
    public void Task_of_T_method_with_implicit_key_and_cancellation_token()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo;

            public partial class Assistant
            {
                [Guarded]
                public partial Task<string> AskAsync(string userId, int turn, CancellationToken cancellationToken);

                private Task<string> AskCoreAsync(string userId, int turn, CancellationToken cancellationToken) =>
                    Task.FromResult(userId + turn);
            }
            """);

        run.AssertClean();
        Snapshot.VerifyGenerated(run.Source("Demo.Assistant.Guarded.g.cs"), "ImplicitKeyTaskOfT");
    }

    [Fact]
    public void Explicit_member_chain_key_with_scene_policy_and_fallback_taking_the_exception()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo.Tickets;

            public sealed record TicketRequest(string UserId, int SessionId);

            public sealed record TicketDraft(string Title);

            public partial class TicketAssistant
            {
                [Guarded(Scene = "ticket_autofill", Key = "{req.UserId}:{req.SessionId}", TimeoutMs = 5_000, MaxRetries = 4, RetryDelayMs = 50, Fallback = nameof(Draft))]
                public partial Task<TicketDraft> ExtractAsync(TicketRequest req, CancellationToken cancellationToken = default);

                private Task<TicketDraft> ExtractCoreAsync(TicketRequest req, CancellationToken cancellationToken) =>
                    Task.FromResult(new TicketDraft(req.UserId));

                private static TicketDraft Draft(TicketRequest req, Exception exception) => new(req.UserId + exception.Message);
            }
            """);

        run.AssertClean();
        Snapshot.VerifyGenerated(run.Source("Demo.Tickets.TicketAssistant.Guarded.g.cs"), "ExplicitKeyWithFallback");
    }

    [Fact]
    public void Fallback_chain_from_the_primary_model_to_a_smaller_guarded_model_to_a_static_reply()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo.Support;

            public interface IChatModel
            {
                Task<string> CompleteAsync(string prompt, CancellationToken cancellationToken);
            }

            public partial class SupportAssistant(IChatModel large, IChatModel small)
            {
                [Guarded(Scene = "support_large", Key = "{sessionId}:{question}", TimeoutMs = 800, MaxRetries = 1, Fallback = nameof(AskSmallAsync))]
                public partial Task<string> AskAsync(string sessionId, string question, CancellationToken cancellationToken);

                [Guarded(Scene = "support_small", Key = "{sessionId}:{question}", TimeoutMs = 2_000, MaxRetries = 0, Fallback = nameof(Busy))]
                public partial Task<string> AskSmallAsync(string sessionId, string question, CancellationToken cancellationToken);

                private Task<string> AskCoreAsync(string sessionId, string question, CancellationToken cancellationToken) =>
                    large.CompleteAsync(question, cancellationToken);

                private Task<string> AskSmallCoreAsync(string sessionId, string question, CancellationToken cancellationToken) =>
                    small.CompleteAsync(question, cancellationToken);

                private static string Busy(string sessionId, string question) => "All our assistants are busy; an agent will answer shortly.";
            }
            """);

        run.AssertClean();
        Snapshot.VerifyGenerated(run.Source("Demo.Support.SupportAssistant.Guarded.g.cs"), "FallbackChain");
    }

    [Fact]
    public void Call_context_placeholders_read_the_current_context_in_the_key_method()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo.Tenants;

            public partial class TenantAssistant
            {
                [Guarded(Key = "{$tenant}/{$user}:{question}")]
                public partial Task<string> AskAsync(string question, CancellationToken cancellationToken);

                private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) =>
                    Task.FromResult(question);
            }
            """);

        run.AssertClean();
        Snapshot.VerifyGenerated(run.Source("Demo.Tenants.TenantAssistant.Guarded.g.cs"), "CallContextKey");
    }

    [Fact]
    public void GuardRuntime_field_and_primary_constructor_parameter_are_the_runtimes_of_their_types()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo.Runtimes;

            public partial class WithField
            {
                private readonly GuardRuntime _runtime;

                public WithField(GuardRuntime runtime) => _runtime = runtime;

                [Guarded]
                public partial Task<int> CountAsync(string text);

                private Task<int> CountCoreAsync(string text) => Task.FromResult(text.Length);
            }

            public partial class WithPrimaryConstructor(GuardRuntime runtime)
            {
                [Guarded]
                public partial ValueTask<string> EchoAsync(string text);

                private ValueTask<string> EchoCoreAsync(string text) => new(text);
            }
            """);

        run.AssertClean();
        Assert.Equal(2, run.GeneratedSources.Length);
        Snapshot.VerifyGenerated(run.Source("Demo.Runtimes.WithField.Guarded.g.cs"), "RuntimeField");
        Snapshot.VerifyGenerated(run.Source("Demo.Runtimes.WithPrimaryConstructor.Guarded.g.cs"), "RuntimePrimaryConstructor");
    }

    [Fact]
    public void Static_ValueTask_method_without_singleflight()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo;

            public static partial class Notifier
            {
                [Guarded(SingleFlight = false)]
                public static partial ValueTask NotifyAsync(long ticketId, CancellationToken cancellationToken);

                private static async ValueTask NotifyCoreAsync(long ticketId, CancellationToken cancellationToken) =>
                    await Task.Delay(TimeSpan.FromMilliseconds(ticketId), cancellationToken);
            }
            """);

        run.AssertClean();
        Snapshot.VerifyGenerated(run.Source("Demo.Notifier.Guarded.g.cs"), "StaticValueTaskWithoutSingleFlight");
    }

    [Fact]
    public void Merge_windows_fixed_and_sliding_with_supersede_and_appended_parameters()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            using System.Collections.Generic;

            namespace Demo;

            public partial class ChatDesk(GuardRuntime runtime)
            {
                [Guarded(Key = "{sessionId}", MergeWindowMs = 2000, Fallback = nameof(Apologize))]
                public partial Task<string> ReplyAsync(string sessionId, [NotInKey] string message, CancellationToken cancellationToken = default);

                [Guarded(Key = "{sessionId}", MergeWindowMs = 400, MergeMode = MergeMode.Sliding, MergeMaxWaitMs = 1500, Supersede = true)]
                public partial Task<string> ReplyToBurstAsync(string sessionId, [MergeAppend(Separator = " / ")] string text, [MergeAppend] IReadOnlyList<int> messageIds, CancellationToken cancellationToken = default);

                private Task<string> ReplyCoreAsync(string sessionId, string message, CancellationToken cancellationToken) => Task.FromResult(message);

                private Task<string> ReplyToBurstCoreAsync(string sessionId, string text, IReadOnlyList<int> messageIds, CancellationToken cancellationToken) =>
                    Task.FromResult(text + runtime.InFlightCount);

                private static string Apologize(string sessionId, string message, Exception exception) => "Sorry.";
            }
            """);

        run.AssertClean();
        Snapshot.VerifyGenerated(run.Source("Demo.ChatDesk.Guarded.g.cs"), "MergeWindows");
    }

    [Fact]
    public void Nested_generic_type_and_global_namespace_type_are_redeclared_with_metadata_hint_names()
    {
        GeneratorRun run = GeneratorHarness.Run(
            Usings + """
                namespace Demo.Nested
                {
                    public partial class Outer
                    {
                        public partial class Inner<T>
                            where T : notnull
                        {
                            [Guarded]
                            public partial Task<T?> FindAsync(string id, CancellationToken cancellationToken);

                            private Task<T?> FindCoreAsync(string id, CancellationToken cancellationToken) => Task.FromResult<T?>(default);
                        }
                    }
                }
                """,
            Usings + """
                public partial class GlobalAssistant
                {
                    [Guarded]
                    internal partial Task SaveAsync(Guid id);

                    private Task SaveCoreAsync(Guid id) => Task.CompletedTask;
                }
                """);

        run.AssertClean();
        Assert.Equal(
            new[] { "Demo.Nested.Outer.Inner`1.Guarded.g.cs", "GlobalAssistant.Guarded.g.cs" },
            run.GeneratedSources.Select(s => s.HintName).OrderBy(name => name, StringComparer.Ordinal));
        Snapshot.VerifyGenerated(run.Source("Demo.Nested.Outer.Inner`1.Guarded.g.cs"), "NestedGenericType");
        Snapshot.VerifyGenerated(run.Source("GlobalAssistant.Guarded.g.cs"), "GlobalNamespaceType");
    }

    [Fact]
    public void Overloaded_guarded_methods_get_distinct_generated_members()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo;

            public partial class Translator
            {
                [Guarded]
                public partial Task<string> TranslateAsync(string text);

                [Guarded]
                public partial Task<string> TranslateAsync(string text, string language);

                private Task<string> TranslateCoreAsync(string text) => Task.FromResult(text);

                private Task<string> TranslateCoreAsync(string text, string language) => Task.FromResult(language + text);
            }
            """);

        run.AssertClean();
        string source = run.Source("Demo.Translator.Guarded.g.cs");
        Assert.Contains("__TranslateAsync_1_Guard", source, StringComparison.Ordinal);
        Assert.Contains("__TranslateAsync_2_Guard", source, StringComparison.Ordinal);
        Snapshot.VerifyGenerated(source, "Overloads");
    }

    [Fact]
    public void Core_named_with_nameof_is_called_instead_of_the_conventional_core()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo;

            public partial class Summarizer
            {
                [Guarded(Core = nameof(CallModelAsync))]
                public partial Task<string> SummarizeAsync(string document);

                private Task<string> CallModelAsync(string document) => Task.FromResult(document);
            }
            """);

        run.AssertClean();
        Snapshot.VerifyGenerated(run.Source("Demo.Summarizer.Guarded.g.cs"), "CustomCore");
    }

    [Fact]
    public void Keyword_parameter_name_and_DateTime_and_nullable_int_key_parts()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo;

            public partial class Classifier
            {
                [Guarded]
                public partial Task<string> ClassifyAsync(string @class, DateTime at, int? priority, CancellationToken cancellationToken);

                private Task<string> ClassifyCoreAsync(string @class, DateTime at, int? priority, CancellationToken cancellationToken) =>
                    Task.FromResult(@class + at.Ticks + priority);
            }
            """);

        run.AssertClean();
        Snapshot.VerifyGenerated(run.Source("Demo.Classifier.Guarded.g.cs"), "KeywordParameterAndFormattedKeyParts");
    }

    [Fact]
    public void Generated_code_attribute_carries_the_generator_version()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Versioned
            {
                [Guarded]
                public partial Task RunAsync();

                private Task RunCoreAsync() => Task.CompletedTask;
            }
            """);

        run.AssertClean();
        Assert.Contains($"[global::System.CodeDom.Compiler.GeneratedCode(\"LlmGuard.Generators\", \"{Snapshot.GeneratorVersion}\")]", run.SingleSource(), StringComparison.Ordinal);
    }

    [Fact]
    public void Scene_manifest_lists_every_guarded_method_with_its_compile_time_settings()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo.Manifest;

            public partial class Support
            {
                [Guarded(Scene = "ticket_reply", TimeoutMs = 8_000, MaxRetries = 1, RetryDelayMs = 100, MaxRetryAfterMs = 5_000)]
                public partial Task<string> ReplyAsync(string ticket, CancellationToken cancellationToken);

                private Task<string> ReplyCoreAsync(string ticket, CancellationToken cancellationToken) => Task.FromResult(ticket);

                [Guarded(Key = "{user}", MergeWindowMs = 300, MergeMode = MergeMode.Sliding, MergeMaxWaitMs = 2_000)]
                public partial Task<string> SuggestAsync(string user, [MergeAppend] string text);

                private Task<string> SuggestCoreAsync(string user, string text) => Task.FromResult(text);
            }

            public static partial class Titles
            {
                [Guarded(Scene = "titles", TimeoutMs = 0, MergeWindowMs = 50)]
                public static partial ValueTask<string> TitleAsync(string text);

                private static ValueTask<string> TitleCoreAsync(string text) => new(text);
            }
            """);

        run.AssertClean();
        Assert.Equal(2, run.GeneratedSources.Length);
        Snapshot.VerifyGenerated(run.SceneManifest!, "SceneManifest");
    }

    [Fact]
    public void A_compilation_without_guarded_methods_gets_no_scene_manifest()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + "namespace Demo; public sealed class Plain { }");

        run.AssertClean();
        Assert.Null(run.SceneManifest);
    }
}
