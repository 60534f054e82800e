using System;
using System.Linq;
using LlmGuard.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace LlmGuard.Generators.Tests;

/// <summary>Each LLMG diagnostic: when it is reported, with which severity, where, and what it says.</summary>
public sealed class DiagnosticTests
{
    private const string Usings = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using LlmGuard;

        namespace Demo;

        """;

    [Fact]
    public void Method_that_is_not_partial_reports_LLMG001()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded]
                public Task<string> AskAsync(string question) => Task.FromResult(question);
            }
            """);

        Diagnostic diagnostic = AssertReported(run, "LLMG001", DiagnosticSeverity.Error, "AskAsync", "is not partial");
        Assert.Contains("'AskCoreAsync'", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.Empty(run.GeneratedSources);
    }

    [Fact]
    public void Partial_method_that_already_has_an_implementation_reports_LLMG001()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded]
                public partial Task<string> AskAsync(string question);

                public partial Task<string> AskAsync(string question) => Task.FromResult(question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        AssertReported(run, "LLMG001", DiagnosticSeverity.Error, "AskAsync", "already has an implementation part");
        Assert.Empty(run.GeneratedSources);
    }

    [Fact]
    public void Guarded_method_in_a_type_that_is_not_partial_reports_LLMG002_at_that_type()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public class Outer
            {
                public partial class Assistant
                {
                    [Guarded]
                    public partial Task<string> AskAsync(string question);

                    private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
                }
            }
            """);

        AssertReported(run, "LLMG002", DiagnosticSeverity.Error, "Outer", "Type 'Outer' contains the guarded method 'Assistant.AskAsync' and must be declared 'partial'");
        Assert.Empty(run.GeneratedSources);
    }

    [Fact]
    public void Method_that_does_not_return_a_task_reports_LLMG003_at_its_return_type()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded]
                public partial string Ask(string question);

                private string AskCore(string question) => question;
            }
            """);

        AssertReported(run, "LLMG003", DiagnosticSeverity.Error, "string", "returns 'string'");
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void Missing_conventional_core_reports_LLMG004_at_the_method()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded]
                public partial Task<string> AskAsync(string question);
            }
            """);

        AssertReported(run, "LLMG004", DiagnosticSeverity.Error, "AskAsync", "has no core method 'AskCoreAsync'");
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void Missing_named_core_reports_LLMG004_at_the_Core_argument()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Core = "CallModel")]
                public partial Task<string> AskAsync(string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        AssertReported(run, "LLMG004", DiagnosticSeverity.Error, "\"CallModel\"", "has no core method 'CallModel'");
    }

    [Fact]
    public void Core_with_other_parameters_reports_LLMG005()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded]
                public partial Task<string> AskAsync(string question, CancellationToken cancellationToken);

                private Task<string> AskCoreAsync(int question, CancellationToken cancellationToken) => Task.FromResult(question.ToString());
            }
            """);

        AssertReported(run, "LLMG005", DiagnosticSeverity.Error, "AskAsync", "it must take (string question, CancellationToken cancellationToken)");
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void Core_that_is_static_when_the_method_is_not_reports_LLMG005()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded]
                public partial Task<string> AskAsync(string question);

                private static Task<string> AskCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        AssertReported(run, "LLMG005", DiagnosticSeverity.Error, "AskAsync", "it must not be static");
    }

    [Fact]
    public void Ref_parameter_reports_LLMG006_at_the_parameter()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded]
                public partial Task<string> AskAsync(ref string question);

                private Task<string> AskCoreAsync(ref string question) => Task.FromResult(question);
            }
            """);

        AssertReported(run, "LLMG006", DiagnosticSeverity.Error, "question", "is passed by 'ref'");
    }

    [Fact]
    public void Ref_struct_parameter_reports_LLMG006_at_the_parameter()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded]
                public partial Task<string> AskAsync(ReadOnlySpan<char> question);
            }
            """);

        AssertReported(run, "LLMG006", DiagnosticSeverity.Error, "question", "ref struct ('ReadOnlySpan<char>')");
    }

    [Fact]
    public void Second_cancellation_token_reports_LLMG007_at_that_parameter()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded]
                public partial Task<string> AskAsync(string question, CancellationToken first, CancellationToken second);

                private Task<string> AskCoreAsync(string question, CancellationToken first, CancellationToken second) => Task.FromResult(question);
            }
            """);

        AssertReported(run, "LLMG007", DiagnosticSeverity.Error, "second", "more than one CancellationToken ('first' and 'second')");
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void Unclosed_brace_in_the_key_reports_LLMG008_at_the_Key_argument()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "user/{question")]
                public partial Task<string> AskAsync(string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        AssertReported(run, "LLMG008", DiagnosticSeverity.Error, "\"user/{question\"", "'{' at position 5 is never closed");
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void Key_naming_something_that_is_not_a_parameter_reports_LLMG009_at_the_Key_argument()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{answer}")]
                public partial Task<string> AskAsync(string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        AssertReported(run, "LLMG009", DiagnosticSeverity.Error, "\"{answer}\"", "'answer' is not a parameter of the method");
    }

    [Fact]
    public void Key_naming_a_member_the_type_does_not_have_reports_LLMG009()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public sealed record Request(string UserId);

            public partial class Assistant
            {
                [Guarded(Key = "{request.SessionId}")]
                public partial Task<string> AskAsync(Request request);

                private Task<string> AskCoreAsync(Request request) => Task.FromResult(request.UserId);
            }
            """);

        AssertReported(run, "LLMG009", DiagnosticSeverity.Error, "\"{request.SessionId}\"", "'Request' has no readable instance field or property 'SessionId'");
    }

    [Fact]
    public void Key_naming_the_cancellation_token_reports_LLMG009()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{question}:{cancellationToken}")]
                public partial Task<string> AskAsync(string question, CancellationToken cancellationToken);

                private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);
            }
            """);

        AssertReported(run, "LLMG009", DiagnosticSeverity.Error, "\"{question}:{cancellationToken}\"", "is the cancellation token, which is never part of a key");
    }

    [Fact]
    public void Implicit_key_part_without_stable_text_reports_LLMG010_at_the_parameter()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public sealed class Payload
            {
                public string Text { get; set; } = "";
            }

            public partial class Assistant
            {
                [Guarded]
                public partial Task<string> AskAsync(Payload payload);

                private Task<string> AskCoreAsync(Payload payload) => Task.FromResult(payload.Text);
            }
            """);

        Diagnostic diagnostic = AssertReported(run, "LLMG010", DiagnosticSeverity.Error, "payload", "neither overrides ToString nor implements IFormattable");
        Assert.Contains("Key = \"{payload.Id}\"", diagnostic.GetMessage(), StringComparison.Ordinal);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void A_parameter_without_stable_text_is_fine_when_SingleFlight_is_off_because_no_key_is_built()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public sealed class Payload
            {
                public string Text { get; set; } = "";
            }

            public partial class Assistant
            {
                [Guarded(SingleFlight = false)]
                public partial Task<string> AskAsync(Payload payload);

                private Task<string> AskCoreAsync(Payload payload) => Task.FromResult(payload.Text);
            }
            """);

        Assert.Empty(run.GeneratorDiagnostics);
        Assert.DoesNotContain("_Key(", run.GeneratedSources.Single().SourceText.ToString(), StringComparison.Ordinal);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void Diagnostics_are_located_in_the_source_tree_so_pragmas_and_editorconfig_apply()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{ticketId}")]
                public partial Task<string> SummarizeAsync(string ticketId, string locale);

                private Task<string> SummarizeCoreAsync(string ticketId, string locale) => Task.FromResult(ticketId);
            }
            """);

        Diagnostic diagnostic = AssertReported(run, "LLMG015", DiagnosticSeverity.Info, "locale", "does not use parameter 'locale'");
        Assert.True(diagnostic.Location.IsInSource);
        Assert.Same(run.Input.SyntaxTrees.Single(), diagnostic.Location.SourceTree);
    }

    [Fact]
    public void A_record_whose_ToString_prints_a_collection_by_type_name_is_no_implicit_key_part()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            using System.Collections.Generic;

            public sealed record Draft(string CustomerId, List<string> Lines);

            public partial class Assistant
            {
                [Guarded]
                public partial Task<string> PolishAsync(Draft draft);

                private Task<string> PolishCoreAsync(Draft draft) => Task.FromResult(draft.CustomerId);
            }
            """);

        Diagnostic diagnostic = AssertReported(run, "LLMG010", DiagnosticSeverity.Error, "draft", "a record whose ToString prints its member 'Lines' of type 'List<string>' by its type name");
        Assert.Contains("mark the parameter [NotInKey]", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_of_stable_members_is_an_implicit_key_part()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public sealed record Ticket(string CustomerId, int Number, DateTime? OpenedAt, Priority Priority);

            public enum Priority { Low, High }

            public partial class Assistant
            {
                [Guarded]
                public partial Task<string> TriageAsync(Ticket ticket);

                private Task<string> TriageCoreAsync(Ticket ticket) => Task.FromResult(ticket.CustomerId);
            }
            """);

        Assert.Empty(run.GeneratorDiagnostics);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void A_protected_member_read_through_a_base_typed_parameter_reports_LLMG009_instead_of_code_that_cannot_compile()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public class Conversation
            {
                protected string Secret { get; set; } = "";
            }

            public partial class Assistant : Conversation
            {
                [Guarded(Key = "{other.Secret}")]
                public partial Task<string> AskAsync(Conversation other);

                private Task<string> AskCoreAsync(Conversation other) => Task.FromResult("");
            }
            """);

        AssertReported(run, "LLMG009", DiagnosticSeverity.Error, "\"{other.Secret}\"", "has no readable instance field or property 'Secret'");
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void A_nested_type_may_key_on_a_private_member_of_its_enclosing_type()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Desk
            {
                private string Queue { get; } = "billing";

                public partial class Agent
                {
                    [Guarded(Key = "{desk.Queue}")]
                    public partial Task<string> AskAsync(Desk desk);

                    private Task<string> AskCoreAsync(Desk desk) => Task.FromResult(desk.Queue);
                }
            }
            """);

        Assert.Empty(run.GeneratorDiagnostics);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void A_guarded_local_function_reports_LLMG017_rather_than_running_unguarded()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                public Task<string> RunAsync()
                {
                    return AskAsync("hello");

                    [Guarded]
                    static Task<string> AskAsync(string question) => Task.FromResult(question);
                }
            }
            """);

        AssertReported(run, "LLMG017", DiagnosticSeverity.Error, "AskAsync", "a local function cannot be partial");
    }

    [Fact]
    public void A_key_with_SingleFlight_off_reports_LLMG013_because_nothing_would_use_it()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{question}", SingleFlight = false)]
                public partial Task<string> AskAsync(string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        AssertReported(run, "LLMG013", DiagnosticSeverity.Error, "\"{question}\"", "no call is shared, so no key is built");
    }

    [Fact]
    public void Several_GuardRuntime_members_are_reported_once_per_type_however_many_methods_it_guards()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                private readonly GuardRuntime _primary = new();
                private readonly GuardRuntime _secondary = new();

                [Guarded]
                public partial Task<string> AskAsync(string question);

                [Guarded]
                public partial Task<string> SummarizeAsync(string text);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);

                private Task<string> SummarizeCoreAsync(string text) => Task.FromResult(text + _primary.InFlightCount + _secondary.InFlightCount);
            }
            """);

        Assert.Single(run.GeneratorDiagnostics, d => d.Id == "LLMG014");
        Assert.DoesNotContain(run.OutputDiagnostics, d => d.Id == "CS8795");
    }

    [Fact]
    public void A_static_method_with_a_primary_constructor_runtime_is_told_to_keep_the_runtime_in_a_static_member()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant(GuardRuntime runtime)
            {
                [Guarded]
                public static partial Task<string> AskAsync(string question);

                private static Task<string> AskCoreAsync(string question) => Task.FromResult(question);

                public int InFlight => runtime.InFlightCount;
            }
            """);

        AssertReported(run, "LLMG016", DiagnosticSeverity.Error, "AskAsync", "keep the runtime in a static field or property");
    }

    [Fact]
    public void Explicit_key_part_without_stable_text_reports_LLMG010_at_the_Key_argument()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public sealed class Payload
            {
                public object Body { get; } = new();
            }

            public partial class Assistant
            {
                [Guarded(Key = "{payload.Body}")]
                public partial Task<string> AskAsync(Payload payload);

                private Task<string> AskCoreAsync(Payload payload) => Task.FromResult("");
            }
            """);

        AssertReported(run, "LLMG010", DiagnosticSeverity.Error, "\"{payload.Body}\"", "Key part 'payload.Body'");
    }

    [Fact]
    public void Fallback_that_does_not_exist_reports_LLMG011_at_the_Fallback_argument()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Fallback = "Apologize")]
                public partial Task<string> AskAsync(string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        AssertReported(run, "LLMG011", DiagnosticSeverity.Error, "\"Apologize\"", "names the fallback 'Apologize', but 'Assistant' has no method of that name");
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void Fallback_with_the_wrong_result_reports_LLMG012_at_the_Fallback_argument()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Fallback = nameof(Apologize))]
                public partial Task<string> AskAsync(string question, CancellationToken cancellationToken);

                private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);

                private int Apologize(string question) => question.Length;
            }
            """);

        AssertReported(
            run,
            "LLMG012",
            DiagnosticSeverity.Error,
            "nameof(Apologize)",
            "it must take (string question, CancellationToken cancellationToken) or (string question), optionally followed by an Exception, and return string, Task<string> or ValueTask<string>");
    }

    [Fact]
    public void Instance_fallback_of_a_static_method_reports_LLMG012()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public static partial class Assistant
            {
                [Guarded(Fallback = nameof(Apologize))]
                public static partial Task<string> AskAsync(string question);

                private static Task<string> AskCoreAsync(string question) => Task.FromResult(question);

                private static int Apologize(string question) => question.Length;
            }
            """);

        AssertReported(run, "LLMG012", DiagnosticSeverity.Error, "nameof(Apologize)", "and be static like the guarded method");
    }

    [Theory]
    [InlineData("TimeoutMs = 5", "5", "TimeoutMs = 5 is not valid")]
    [InlineData("TimeoutMs = 86_400_001", "86_400_001", "TimeoutMs = 86400001 is not valid")]
    [InlineData("MaxRetries = -1", "-1", "MaxRetries = -1 is not valid")]
    [InlineData("MaxRetries = 101", "101", "use a value from 0 to 100")]
    [InlineData("RetryDelayMs = int.MinValue", "int.MinValue", "RetryDelayMs = -2147483648 is not valid")]
    [InlineData("MaxRetryAfterMs = -1", "-1", "MaxRetryAfterMs = -1 is not valid")]
    [InlineData("MaxRetryAfterMs = 86_400_001", "86_400_001", "use a value from 0 to 86400000 (one day)")]
    [InlineData("Scene = \" \"", "\" \"", "a scene must contain text")]
    [InlineData("MergeWindowMs = -1", "-1", "MergeWindowMs = -1 is not valid")]
    [InlineData("MergeWindowMs = 500, SingleFlight = false", "false", "cannot be combined with SingleFlight = false")]
    [InlineData("MergeWindowMs = 500, MergeMode = MergeMode.Sliding", "MergeMode.Sliding", "a sliding window needs a cap")]
    [InlineData("MergeWindowMs = 500, MergeMode = MergeMode.Sliding, MergeMaxWaitMs = 400", "400", "a sliding window needs a cap from MergeWindowMs (500)")]
    [InlineData("MergeWindowMs = 500, MergeMaxWaitMs = 2000", "2000", "it caps sliding windows only")]
    [InlineData("Supersede = true", "true", "it has no effect without a merge window")]
    [InlineData("CacheSeconds = 60, SingleFlight = false", "false", "a cached answer is found by the call's key, and SingleFlight = false builds none")]
    [InlineData("MergeMode = MergeMode.Sliding, MergeMaxWaitMs = 1000", "MergeMode.Sliding", "it has no effect without a merge window")]
    public void Out_of_range_attribute_value_reports_LLMG013_at_that_argument(string argument, string locatedText, string phrase)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public partial class Assistant
            {
                [Guarded({{argument}})]
                public partial Task<string> AskAsync(string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        AssertReported(run, "LLMG013", DiagnosticSeverity.Error, locatedText, phrase);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void Merge_window_whose_key_has_no_parts_reports_LLMG018()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(MergeWindowMs = 2000)]
                public partial Task<string> AskAsync([NotInKey] string question, CancellationToken cancellationToken);

                private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);
            }
            """);

        AssertReported(run, "LLMG018", DiagnosticSeverity.Warning, "AskAsync", "calls from every conversation merge into one execution");
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void Merge_window_with_an_empty_explicit_key_reports_LLMG018_at_the_Key_argument()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "all", MergeWindowMs = 2000)]
                public partial Task<string> AskAsync([NotInKey] string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        AssertReported(run, "LLMG018", DiagnosticSeverity.Warning, "\"all\"", "merges calls for 2000 ms");
    }

    [Theory]
    [InlineData("[Guarded(Key = \"{sessionId}\")]", "[MergeAppend] string messages", "only calls merged by a merge window have values to collect")]
    [InlineData("[Guarded(Key = \"{sessionId}\", MergeWindowMs = 1000)]", "[MergeAppend] int messages", "its type 'int' is neither a string nor an array")]
    [InlineData("[Guarded(Key = \"{sessionId}\", MergeWindowMs = 1000)]", "[MergeAppend] HashSet<string> messages", "its type 'HashSet<string>' is neither")]
    [InlineData("[Guarded(Key = \"{sessionId}:{messages}\", MergeWindowMs = 1000)]", "[MergeAppend] string messages", "the key names it")]
    public void MergeAppend_that_cannot_collect_reports_LLMG019_at_the_parameter(string attribute, string parameter, string phrase)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + "using System.Collections.Generic;\n" + $$"""
            public partial class Assistant
            {
                {{attribute}}
                public partial Task<string> AskAsync(string sessionId, {{parameter}});

                private Task<string> AskCoreAsync(string sessionId, {{parameter.Replace("[MergeAppend] ", "")}}) => Task.FromResult(sessionId);
            }
            """);

        AssertReported(run, "LLMG019", DiagnosticSeverity.Error, "messages", phrase);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void Valid_merge_windows_with_appended_strings_arrays_and_lists_report_nothing_and_compile()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + "using System.Collections.Generic;\n" + """
            public partial class ChatDesk
            {
                [Guarded(Key = "{sessionId}", MergeWindowMs = 500, MergeMode = MergeMode.Sliding, MergeMaxWaitMs = 3000, Supersede = true)]
                public partial Task<string> ReplyAsync(
                    string sessionId,
                    [MergeAppend(Separator = " ")] string text,
                    [MergeAppend] int[] ids,
                    [MergeAppend] IReadOnlyList<string> attachments,
                    [MergeAppend] List<long>? edits,
                    CancellationToken cancellationToken);

                private Task<string> ReplyCoreAsync(string sessionId, string text, int[] ids, IReadOnlyList<string> attachments, List<long>? edits, CancellationToken cancellationToken) =>
                    Task.FromResult(text);
            }
            """);

        Assert.Empty(run.GeneratorDiagnostics);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void Zero_timeout_means_none_and_reports_nothing()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(TimeoutMs = 0, MaxRetries = 0, RetryDelayMs = 0)]
                public partial Task<string> AskAsync(string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        run.AssertClean();
        Assert.Contains("timeoutMs: 0, maxRetries: 0, retryDelayMs: 0", run.SingleSource(), StringComparison.Ordinal);
    }

    [Fact]
    public void Two_GuardRuntime_members_report_LLMG014_at_the_type()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                private readonly GuardRuntime _first = new();

                private GuardRuntime Second { get; } = new();

                [Guarded]
                public partial Task<string> AskAsync(string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question + _first + Second);
            }
            """);

        AssertReported(run, "LLMG014", DiagnosticSeverity.Error, "Assistant", "several GuardRuntime members (_first, Second)");
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void Key_that_leaves_out_a_parameter_reports_LLMG015_as_info_and_still_generates()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{userId}")]
                public partial Task<string> AskAsync(string userId, string question, CancellationToken cancellationToken);

                private Task<string> AskCoreAsync(string userId, string question, CancellationToken cancellationToken) => Task.FromResult(question);
            }
            """);

        AssertReported(run, "LLMG015", DiagnosticSeverity.Info, "question", "does not use parameter 'question'");
        Assert.Contains("__AskAsync_Key(string userId)", run.SingleSource(), StringComparison.Ordinal);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void NotInKey_on_a_parameter_the_key_template_names_reports_LLMG021_and_the_template_decides()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{userId}:{question}")]
                public partial Task<string> AskAsync(string userId, [NotInKey] string question);

                private Task<string> AskCoreAsync(string userId, string question) => Task.FromResult(question);
            }
            """);

        AssertReported(run, "LLMG021", DiagnosticSeverity.Warning, "question", "is marked [NotInKey], but the Key template names it");
        Assert.Contains("__AskAsync_Key(string userId, string question)", run.SingleSource(), StringComparison.Ordinal);
        run.AssertOutputCompilesCleanly();
    }

    [Theory]
    [InlineData("{$customer}:{question}", "{$customer}")]
    [InlineData("{$Tenant}:{question}", "{$Tenant}")]
    [InlineData("{$requestId}:{question}", "{$requestId}")]
    [InlineData("{$tenant.Length}:{question}", "{$tenant.Length}")]
    [InlineData("{$}:{question}", "{$}")]
    public void Unknown_call_context_placeholder_reports_LLMG022_listing_the_valid_ones(string template, string placeholder)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public partial class Assistant
            {
                [Guarded(Key = "{{template}}")]
                public partial Task<string> AskAsync(string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        Diagnostic diagnostic = AssertReported(run, "LLMG022", DiagnosticSeverity.Error, $"\"{template}\"", $"Key template of 'Assistant.AskAsync' cannot use '{placeholder}'");
        Assert.EndsWith("use one of {$tenant}, {$user}, {$conversation}, {$module} (names are case-sensitive)", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.DoesNotContain("__AskAsync_Key", run.SingleSource(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-1", "CacheSeconds = -1 on 'Assistant.AskAsync' is out of range")]
    [InlineData("2_592_001", "CacheSeconds = 2592001 on 'Assistant.AskAsync' is out of range")]
    [InlineData("int.MaxValue", "use 0 for no caching, or a value up to 2592000 (30 days)")]
    public void Out_of_range_CacheSeconds_reports_LLMG023_at_the_value(string value, string phrase)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public partial class Assistant
            {
                [Guarded(Key = "{$user}:{question}", CacheSeconds = {{value}})]
                public partial Task<string> AskAsync(string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        AssertReported(run, "LLMG023", DiagnosticSeverity.Error, value, phrase);
        run.AssertOutputCompilesCleanly();
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1")]
    [InlineData("2_592_000")]
    public void CacheSeconds_from_0_to_30_days_reports_nothing(string value)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public partial class Assistant
            {
                [Guarded(Key = "{$user}:{question}", CacheSeconds = {{value}})]
                public partial Task<string> AskAsync(string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        run.AssertClean();
    }

    [Fact]
    public void Cached_core_reading_a_NotInKey_parameter_reports_LLMG024_at_the_parameter()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{$user}:{question}", CacheSeconds = 60)]
                public partial Task<string> AskAsync(string question, string tone, CancellationToken cancellationToken);

                private Task<string> AskCoreAsync(string question, string tone, CancellationToken cancellationToken) =>
                    Task.FromResult(question + " in a " + tone + " tone");
            }
            """);

        Diagnostic diagnostic = AssertReported(run, "LLMG024", DiagnosticSeverity.Error, "tone", "'Assistant.AskAsync' is cached, but its core 'AskCoreAsync' reads 'tone', which is not in the key");
        Assert.Contains("put 'tone' in the key, or mark the parameter [DoesNotAffectAnswer]", diagnostic.GetMessage(), StringComparison.Ordinal);
        run.AssertOutputCompilesCleanly();
    }

    [Theory]
    [InlineData("[NotInKey] string tone", "tone")]
    [InlineData("[NotInKey] string tone", "tone.Length.ToString()")]
    [InlineData("[NotInKey] string tone", "new Func<string>(() => tone)()")]
    [InlineData("[NotInKey] string tone", "Describe(tone)")]
    public void Cached_core_reading_an_implicit_key_outsider_in_any_expression_reports_LLMG024(string parameter, string read)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public partial class Assistant
            {
                [Guarded(CacheSeconds = 60)]
                public partial Task<string> AskAsync([CachePartition] string userId, string question, {{parameter}});

                private Task<string> AskCoreAsync(string userId, string question, string tone)
                {
                    string text = {{read}};
                    return Task.FromResult(userId + question + text);
                }

                private static string Describe(string value) => value;
            }
            """);

        AssertReported(run, "LLMG024", DiagnosticSeverity.Error, "tone", "reads 'tone'");
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void Cached_core_declared_in_another_file_is_read_for_LLMG024()
    {
        GeneratorRun run = GeneratorHarness.Run(
            Usings + """
                public partial class Assistant
                {
                    [Guarded(Key = "{$user}:{question}", CacheSeconds = 60)]
                    public partial Task<string> AskAsync(string question, [NotInKey] string tone);
                }
                """,
            Usings + """
                public partial class Assistant
                {
                    private Task<string> AskCoreAsync(string question, string tone) => Task.FromResult(question + tone);
                }
                """);

        AssertReported(run, "LLMG024", DiagnosticSeverity.Error, "tone", "reads 'tone'");
    }

    [Fact]
    public void Cached_partial_core_is_read_in_its_implementation_part_for_LLMG024()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{$user}:{question}", CacheSeconds = 60)]
                public partial Task<string> AskAsync(string question, [NotInKey] string tone);

                private partial Task<string> AskCoreAsync(string question, string style);

                private partial Task<string> AskCoreAsync(string question, string style) => Task.FromResult(question + style);
            }
            """);

        AssertReported(run, "LLMG024", DiagnosticSeverity.Error, "tone", "reads 'tone'");
    }

    [Fact]
    public void Cached_core_reading_a_parameter_the_key_template_leaves_out_reports_LLMG024()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{$user}:{question}", CacheSeconds = 60)]
                public partial Task<string> AskAsync(string question, int maxWords);

                private Task<string> AskCoreAsync(string question, int maxWords) => Task.FromResult(question[..maxWords]);
            }
            """);

        AssertReported(run, "LLMG024", DiagnosticSeverity.Error, "maxWords", "reads 'maxWords'");
    }

    [Theory]
    [InlineData("request.Version")]
    [InlineData("request?.Version")]
    [InlineData("request.Version.ToString()")]
    public void Cached_core_reading_a_member_of_a_key_parameter_that_the_key_leaves_out_reports_LLMG024(string read)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public sealed record FaqRequest(string Question, int Version);

            public partial class Assistant
            {
                [Guarded(Key = "{$tenant}:{request.Question}", CacheSeconds = 60)]
                public partial Task<string> AskAsync(FaqRequest request);

                private Task<string> AskCoreAsync(FaqRequest request) => Task.FromResult(request.Question + {{read}});
            }
            """);

        AssertReported(run, "LLMG024", DiagnosticSeverity.Error, "request", "core 'AskCoreAsync' reads 'request.Version', which is not in the key");
    }

    [Theory]
    [InlineData("{$tenant}:{request.Question}:{request.Version}", "request.Question + request.Version")]
    [InlineData("{$tenant}:{request}", "request.Question + request.Version")]
    [InlineData("{$tenant}:{request.Question}", "request.Question + nameof(request.Version)")]
    [InlineData("{$tenant}:{request.Question}", "Describe(request)")]
    [InlineData("{$tenant}:{request.Question}", "request.Question + request.GetHashCode()")]
    [InlineData("{$tenant}:{request.Question}", "request?.Question + request?.GetHashCode()")]
    public void Cached_core_reading_only_members_in_the_key_or_passing_the_parameter_on_reports_no_LLMG024(string key, string body)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public sealed record FaqRequest(string Question, int Version)
            {
                public override string ToString() => Question + Version;
            }

            public partial class Assistant
            {
                [Guarded(Key = "{{key}}", CacheSeconds = 60)]
                public partial Task<string> AskAsync(FaqRequest request);

                private Task<string> AskCoreAsync(FaqRequest request) => Task.FromResult({{body}});

                private static string Describe(FaqRequest request) => request.Question;
            }
            """);

        run.AssertClean();
    }

    [Theory]
    [InlineData("[DoesNotAffectAnswer] string requestId", "Task.FromResult(question + requestId)")]
    [InlineData("[NotInKey] string requestId", "Task.FromResult(question + nameof(requestId))")]
    [InlineData("[NotInKey] string requestId", "Task.FromResult(question)")]
    [InlineData("string requestId", "Task.FromResult(question + requestId)")]
    public void Cached_core_reading_only_key_parts_or_marked_parameters_reports_no_LLMG024(string parameter, string body)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public partial class Assistant
            {
                [Guarded(CacheSeconds = 60)]
                public partial Task<string> AskAsync([CachePartition] string userId, string question, {{parameter}}, CancellationToken cancellationToken);

                private Task<string> AskCoreAsync(string userId, string question, string requestId, CancellationToken cancellationToken)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    return {{body}};
                }
            }
            """);

        run.AssertClean();
    }

    [Fact]
    public void Uncached_core_reading_a_NotInKey_parameter_reports_no_LLMG024()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{question}")]
                public partial Task<string> AskAsync(string question, [NotInKey] string tone);

                private Task<string> AskCoreAsync(string question, string tone) => Task.FromResult(question + tone);
            }
            """);

        run.AssertClean();
    }

    [Theory]
    [InlineData("Key = \"{question}\", ", "\"{question}\"")]
    [InlineData("Key = \"{$module}:{question}\", ", "\"{$module}:{question}\"")]
    [InlineData("", "AskAsync")]
    public void Cached_key_without_a_partition_reports_LLMG025(string key, string locatedText)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public partial class Assistant
            {
                [Guarded({{key}}CacheSeconds = 60)]
                public partial Task<string> AskAsync(string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        Diagnostic diagnostic = AssertReported(run, "LLMG025", DiagnosticSeverity.Warning, locatedText, "'Assistant.AskAsync' is cached, but its key has no {$tenant}, {$user} or {$conversation} placeholder and no [CachePartition] parameter");
        Assert.Contains("one user's answer is served to every other user", diagnostic.GetMessage(), StringComparison.Ordinal);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void CachePartition_on_a_parameter_outside_the_key_still_reports_LLMG025()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{question}", CacheSeconds = 60)]
                public partial Task<string> AskAsync([CachePartition] string userId, string question);

                private Task<string> AskCoreAsync(string userId, string question) => Task.FromResult(question);
            }
            """);

        run.SingleDiagnostic("LLMG025");
    }

    [Theory]
    [InlineData("Key = \"{$tenant}:{question}\", ", "string question")]
    [InlineData("Key = \"{$user}:{question}\", ", "string question")]
    [InlineData("Key = \"{$conversation}:{question}\", ", "string question")]
    [InlineData("Key = \"{userId}:{question}\", ", "[CachePartition] string userId, string question")]
    [InlineData("", "[CachePartition] string userId, string question")]
    public void Cached_key_with_a_partition_reports_no_LLMG025(string key, string parameters)
    {
        string arguments = parameters.Contains("userId", StringComparison.Ordinal) ? "string userId, string question" : "string question";
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public partial class Assistant
            {
                [Guarded({{key}}CacheSeconds = 60)]
                public partial Task<string> AskAsync({{parameters}});

                private Task<string> AskCoreAsync({{arguments}}) => Task.FromResult(question);
            }
            """);

        run.AssertClean();
    }

    [Fact]
    public void Uncached_key_without_a_partition_reports_no_LLMG025()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{question}")]
                public partial Task<string> AskAsync(string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        run.AssertClean();
    }

    [Fact]
    public void Every_call_context_placeholder_renders_the_current_context_and_reports_nothing()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{$tenant}:{$user}:{$conversation}:{$module}:{@class}")]
                public partial Task<string> AskAsync(string @class);

                private Task<string> AskCoreAsync(string @class) => Task.FromResult(@class);
            }
            """);

        run.AssertClean();
        string source = run.SingleSource();
        foreach (string property in new[] { "Tenant", "User", "Conversation", "Module" })
        {
            Assert.Contains($"AppendValue(global::LlmGuard.LlmCallContext.Current?.{property});", source, StringComparison.Ordinal);
        }

        Assert.Contains("__AskAsync_Key(string @class)", source, StringComparison.Ordinal);
    }

    [Fact]
    public void Key_that_leaves_out_a_NotInKey_parameter_reports_nothing()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Key = "{userId}")]
                public partial Task<string> AskAsync(string userId, [NotInKey] string question, CancellationToken cancellationToken);

                private Task<string> AskCoreAsync(string userId, string question, CancellationToken cancellationToken) => Task.FromResult(question);
            }
            """);

        run.AssertClean();
    }

    [Fact]
    public void Static_method_with_an_instance_GuardRuntime_member_reports_LLMG016_at_the_method()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                private readonly GuardRuntime _runtime = new();

                [Guarded]
                public static partial Task<string> AskAsync(string question);

                private static Task<string> AskCoreAsync(string question) => Task.FromResult(question);

                public int InFlight => _runtime.InFlightCount;
            }
            """);

        AssertReported(run, "LLMG016", DiagnosticSeverity.Error, "AskAsync", "cannot use the instance GuardRuntime member '_runtime'");
        run.AssertOutputCompilesCleanly();
    }

    [Theory]
    [InlineData("public partial struct Assistant", "public partial Task<string> AskAsync(string question);", "the core would run on a copy of the struct")]
    [InlineData("public partial record struct Assistant", "public partial Task<string> AskAsync(string question);", "declare it a readonly struct")]
    [InlineData("public ref partial struct Assistant", "public partial Task<string> AskAsync(string question);", "its type is a ref struct")]
    [InlineData("file partial class Assistant", "public partial Task<string> AskAsync(string question);", "its type is file-local")]
    public void Unsupported_declaration_reports_LLMG017_at_the_method(string type, string method, string phrase)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            {{type}}
            {
                [Guarded]
                {{method}}
            }
            """);

        AssertReported(run, "LLMG017", DiagnosticSeverity.Error, "AskAsync", phrase);
        Assert.Empty(run.GeneratedSources);
    }

    [Theory]
    [InlineData("public readonly partial struct Assistant", "public partial Task<string> AskAsync(string question);", "private Task<string> AskCoreAsync(string question) => Task.FromResult(question);")]
    [InlineData("public readonly partial record struct Assistant", "public partial Task<string> AskAsync(string question);", "private Task<string> AskCoreAsync(string question) => Task.FromResult(question);")]
    [InlineData("public partial interface IAssistant", "public partial Task<string> AskAsync(string question);", "protected Task<string> AskCoreAsync(string question);")]
    [InlineData("public partial class Assistant", "public partial Task<T> AskAsync<T>(string question) where T : class, new();", "private Task<T> AskCoreAsync<T>(string question) where T : class, new() => Task.FromResult(new T());")]
    public void Readonly_structs_interfaces_and_generic_methods_are_guarded_without_diagnostics(string type, string method, string core)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            {{type}}
            {
                [Guarded]
                {{method}}

                {{core}}
            }
            """);

        Assert.Empty(run.GeneratorDiagnostics);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void A_generic_core_with_a_different_number_of_type_parameters_reports_LLMG005()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded]
                public partial Task<T> AskAsync<T>(string question);

                private Task<T> AskCoreAsync<T, U>(string question) => Task.FromResult(default(T)!);
            }
            """);

        AssertReported(run, "LLMG005", DiagnosticSeverity.Error, "AskAsync", "it must have 1 type parameter(s), like the guarded method");
    }

    [Theory]
    [InlineData("[Guarded] public partial string Ask(string question);", "LLMG003")]
    [InlineData("[Guarded] public partial Task<string> AskAsync(string question);", "LLMG004")]
    [InlineData("[Guarded] public partial Task<string> AskAsync(string question); private Task<int> AskCoreAsync(string question) => Task.FromResult(0);", "LLMG005")]
    [InlineData("[Guarded] public partial Task<string> AskAsync(ref string question); private Task<string> AskCoreAsync(ref string question) => Task.FromResult(question);", "LLMG006")]
    [InlineData("[Guarded] public partial Task<string> AskAsync(out string question);", "LLMG006")]
    [InlineData("[Guarded] public partial Task<string> AskAsync(in int question);", "LLMG006")]
    [InlineData("[Guarded] public partial ValueTask AskAsync(Span<char> question);", "LLMG006")]
    [InlineData("[Guarded] public partial ValueTask AskAsync(scoped ReadOnlySpan<char> question);", "LLMG006")]
    [InlineData("[Guarded] public partial ValueTask AskAsync(ref readonly int question, ref int answer);", "LLMG006")]
    [InlineData("[Guarded] public partial ValueTask AskAsync(string question, out string answer, CancellationToken first, CancellationToken second);", "LLMG006")]
    [InlineData("[Guarded(Key = \"}\")] public partial Task<string> AskAsync(string question); private Task<string> AskCoreAsync(string question) => Task.FromResult(question);", "LLMG008")]
    [InlineData("[Guarded(Fallback = \"None\")] public partial ValueTask<int> AskAsync(params string[] questions); private ValueTask<int> AskCoreAsync(params string[] questions) => new(questions.Length);", "LLMG010")]
    [InlineData("[Guarded(MaxRetries = 1000)] internal partial Task AskAsync(string? question); private Task AskCoreAsync(string? question) => Task.CompletedTask;", "LLMG013")]
    public void Method_with_errors_gets_a_throwing_stub_so_the_build_shows_only_the_LLMG_error(string members, string expectedId)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public partial class Assistant
            {
                {{members}}
            }
            """);

        Assert.False(run.GeneratorThrew, run.Describe());
        Assert.Contains(expectedId, run.GeneratorDiagnosticIds());
        Assert.DoesNotContain(run.OutputDiagnostics, d => d.Id == "CS8795");
        Assert.True(run.OutputErrors.IsEmpty, "The stub should leave the output without errors.\n" + run.Describe());
        string stub = run.SingleSource();
        Assert.Contains("throw new global::System.InvalidOperationException(", stub, StringComparison.Ordinal);
        Assert.Contains("because of " + run.GeneratorDiagnostics.First(d => d.Severity == DiagnosticSeverity.Error).Id, stub, StringComparison.Ordinal);
    }

    [Fact]
    public void Varied_valid_declarations_report_nothing_and_compile_without_warnings()
    {
        GeneratorRun run = GeneratorHarness.Run(
            Usings + """
                public enum Tone { Formal, Casual }

                public sealed record Conversation(string UserId, long Id, DateTimeOffset StartedAt, Tone Tone, int? Priority);

                public sealed record Topic(string Name);

                public sealed class Session
                {
                    public Conversation? Current { get; init; }

                    public int Turns;
                }

                public partial class Assistant
                {
                    private static readonly GuardRuntime? s_runtime = null;

                    [Guarded(Key = "{conversation.UserId}/{conversation.Id}@{conversation.StartedAt}~{conversation.Tone}{{{conversation.Priority}}}", Scene = "chat")]
                    public partial Task<string> ReplyAsync(Conversation conversation, [NotInKey] string text, CancellationToken cancellationToken = default);

                    [Guarded(Key = "{session.Current.UserId}#{session.Turns}", Fallback = nameof(ReplyLater), TimeoutMs = 10, MaxRetries = 100, RetryDelayMs = 86_400_000, MaxRetryAfterMs = 86_400_000)]
                    public partial ValueTask<string?> ContinueAsync(Session session, CancellationToken cancellationToken);

                    [Guarded(Fallback = nameof(Forget))]
                    public static partial Task RememberAsync(Topic topic, Guid id, decimal weight, char mark, bool urgent);

                    [Guarded(SingleFlight = false, Fallback = nameof(CountFallbackAsync))]
                    internal partial ValueTask<int> CountAsync([NotInKey] string[] words, CancellationToken cancellationToken);

                    [Guarded(Key = "{words.Length}")]
                    protected internal partial Task<(string Word, int Count)> TopAsync(params string[] words);

                    private Task<string> ReplyCoreAsync(Conversation conversation, string text, CancellationToken cancellationToken) => Task.FromResult(text);

                    private ValueTask<string?> ContinueCoreAsync(Session session, CancellationToken cancellationToken) => new(session.Current?.UserId);

                    private static Task RememberCoreAsync(Topic topic, Guid id, decimal weight, char mark, bool urgent) => Task.CompletedTask;

                    private ValueTask<int> CountCoreAsync(string[] words, CancellationToken cancellationToken) => new(words.Length);

                    private Task<(string Word, int Count)> TopCoreAsync(params string[] words) => Task.FromResult((words[0], words.Length));

                    private static Task<string?> ReplyLater(Session session, CancellationToken cancellationToken, Exception exception) =>
                        Task.FromResult<string?>(exception.Message + session.Turns + cancellationToken.IsCancellationRequested);

                    private static void Forget(Topic topic, Guid id, decimal weight, char mark, bool urgent, Exception exception)
                    {
                        _ = exception;
                    }

                    private async ValueTask<int> CountFallbackAsync(string[] words)
                    {
                        await Task.Yield();
                        return words.Length + (s_runtime is null ? 0 : 1);
                    }
                }
                """,
            """
            using System.Threading.Tasks;
            using LlmGuard;

            namespace Demo.Extensions;

            public static partial class TextExtensions
            {
                private static GuardRuntime Runtime { get; } = new();

                [Guarded]
                public static partial Task<string> ShoutAsync(this string text);

                private static Task<string> ShoutCoreAsync(string text) => Task.FromResult(text.ToUpperInvariant() + Runtime.InFlightCount);
            }
            """);

        run.AssertClean();
        Assert.Equal(2, run.GeneratedSources.Length);
    }

    private static Diagnostic AssertReported(GeneratorRun run, string id, DiagnosticSeverity severity, string locatedText, string messagePhrase)
    {
        Assert.False(run.GeneratorThrew, run.Describe());
        Diagnostic diagnostic = run.SingleDiagnostic(id);
        Assert.Equal(severity, diagnostic.Severity);
        Assert.Equal(locatedText, run.LocatedText(diagnostic));
        Assert.Contains(messagePhrase, diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.StartsWith(Diagnostics.DiagnosticDescriptors.HelpLinkBase, diagnostic.Descriptor.HelpLinkUri, StringComparison.Ordinal);
        return diagnostic;
    }
}
