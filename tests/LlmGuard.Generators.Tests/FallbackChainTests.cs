using System;
using System.Linq;
using LlmGuard.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace LlmGuard.Generators.Tests;

/// <summary>
/// A <c>Fallback</c> that names another [Guarded] method: how the chain is called, which target fits (LLMG027) and
/// which chain comes back to itself (LLMG028).
/// </summary>
public sealed class FallbackChainTests
{
    private const string Usings = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using LlmGuard;

        namespace Demo;

        """;

    [Fact]
    public void A_guarded_fallback_is_called_through_its_guarded_method_with_the_execution_token_and_names_its_scene()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Scene = "primary", Fallback = nameof(AskSmallAsync))]
                public partial Task<string> AskAsync(string question, CancellationToken cancellationToken);

                [Guarded(Fallback = nameof(Busy))]
                public partial ValueTask<string> AskSmallAsync(string question, CancellationToken cancellationToken);

                private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);

                private ValueTask<string> AskSmallCoreAsync(string question, CancellationToken cancellationToken) => new(question);

                private static string Busy(string question) => "busy";
            }
            """);

        run.AssertClean();
        string source = run.SingleSource();
        Assert.Contains("fallback: static async (arguments, exception, executionToken) => await arguments.Self.AskSmallAsync(arguments.question, executionToken).ConfigureAwait(false),", source, StringComparison.Ordinal);

        // The primary names the level below it by that method's scene (here its default); the plain fallback has none.
        Assert.Matches("new\\(scene: \"primary\", timeoutMs: 30000, maxRetries: 2, retryDelayMs: 200, version: \"[0-9a-f]{16}\", fallbackScene: \"Assistant.AskSmallAsync\"\\);", source);
        Assert.Matches("new\\(scene: \"Assistant.AskSmallAsync\", timeoutMs: 30000, maxRetries: 2, retryDelayMs: 200, version: \"[0-9a-f]{16}\"\\);", source);
    }

    [Fact]
    public void A_guarded_fallback_may_take_the_token_when_the_primary_has_none_and_receives_the_execution_token()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Fallback = nameof(AskSmallAsync))]
                public partial Task<string> AskAsync(string topic, int turn);

                [Guarded]
                public partial Task<string> AskSmallAsync(string topic, CancellationToken cancellationToken, int turn);

                private Task<string> AskCoreAsync(string topic, int turn) => Task.FromResult(topic);

                private Task<string> AskSmallCoreAsync(string topic, CancellationToken cancellationToken, int turn) => Task.FromResult(topic);
            }
            """);

        run.AssertClean();
        Assert.Contains("arguments.Self.AskSmallAsync(arguments.topic, executionToken, arguments.turn)", run.SingleSource(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_chain_of_static_Task_methods_awaits_the_next_level()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public static partial class Summaries
            {
                [Guarded(Fallback = nameof(RefreshWithSmallModelAsync))]
                public static partial Task RefreshAsync(long ticketId, CancellationToken cancellationToken);

                [Guarded(Fallback = nameof(Skip))]
                public static partial ValueTask RefreshWithSmallModelAsync(long ticketId, CancellationToken cancellationToken);

                private static Task RefreshCoreAsync(long ticketId, CancellationToken cancellationToken) => Task.CompletedTask;

                private static ValueTask RefreshWithSmallModelCoreAsync(long ticketId, CancellationToken cancellationToken) => default;

                private static void Skip(long ticketId) { }
            }
            """);

        run.AssertClean();
        Assert.Contains(
            "fallback: static (arguments, exception, executionToken) => global::LlmGuard.Infrastructure.VoidResult.When(RefreshWithSmallModelAsync(arguments.ticketId, executionToken)),",
            run.SingleSource(),
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_guarded_fallback_without_the_token_of_its_primary_reports_LLMG027_at_the_Fallback_argument()
    {
        // A plain method without the token is a valid fallback; a guarded one would run its own execution, retries and
        // fallback for callers who have all cancelled, so it must take the token.
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Fallback = nameof(AskSmallAsync))]
                public partial Task<string> AskAsync(string question, CancellationToken cancellationToken);

                [Guarded]
                public partial Task<string> AskSmallAsync(string question);

                private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);

                private Task<string> AskSmallCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        Diagnostic diagnostic = AssertReported(run, "LLMG027", "nameof(AskSmallAsync)");
        Assert.Equal(
            "Fallback 'AskSmallAsync' of 'Assistant.AskAsync' is a guarded method, which the chain calls with the arguments and the token of 'Assistant.AskAsync's execution: it must take (string question) in this order and a CancellationToken, so that a cancelled execution stops the chain, and return Task<string> or ValueTask<string>",
            diagnostic.GetMessage());
        Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id == "LLMG012");
        run.AssertOutputCompilesCleanly();
    }

    [Theory]
    [InlineData("public partial Task<int> AskSmallAsync(string question, CancellationToken cancellationToken);", "private Task<int> AskSmallCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(1);")]
    [InlineData("public partial Task<string> AskSmallAsync(int question, CancellationToken cancellationToken);", "private Task<string> AskSmallCoreAsync(int question, CancellationToken cancellationToken) => Task.FromResult(\"\");")]
    [InlineData("public partial Task<string> AskSmallAsync(string question, CancellationToken cancellationToken, Exception exception);", "private Task<string> AskSmallCoreAsync(string question, CancellationToken cancellationToken, Exception exception) => Task.FromResult(question);")]
    public void A_guarded_fallback_with_another_result_parameters_or_an_Exception_reports_LLMG027(string target, string core)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            public partial class Assistant
            {
                [Guarded(Fallback = nameof(AskSmallAsync))]
                public partial Task<string> AskAsync(string question, CancellationToken cancellationToken);

                [Guarded]
                {{target}}

                private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);

                {{core}}
            }
            """);

        AssertReported(run, "LLMG027", "nameof(AskSmallAsync)");
    }

    [Fact]
    public void An_instance_guarded_fallback_of_a_static_method_reports_LLMG027_with_the_static_rule()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Fallback = nameof(AskSmallAsync))]
                public static partial Task<string> AskAsync(string question);

                [Guarded]
                public partial Task<string> AskSmallAsync(string question);

                private static Task<string> AskCoreAsync(string question) => Task.FromResult(question);

                private Task<string> AskSmallCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        Diagnostic diagnostic = AssertReported(run, "LLMG027", "nameof(AskSmallAsync)");
        Assert.EndsWith("take (string question) in this order, optionally with a CancellationToken, and return Task<string> or ValueTask<string>, and be static like the guarded method", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Fact]
    public void Two_guarded_methods_naming_each_other_report_LLMG028_on_each_with_the_chain_from_it()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Fallback = nameof(AskSmallAsync))]
                public partial Task<string> AskAsync(string question, CancellationToken cancellationToken);

                [Guarded(Fallback = nameof(AskAsync))]
                public partial Task<string> AskSmallAsync(string question, CancellationToken cancellationToken);

                private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);

                private Task<string> AskSmallCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);
            }
            """);

        Assert.False(run.GeneratorThrew, run.Describe());
        Diagnostic[] cycles = run.GeneratorDiagnostics.Where(d => d.Id == "LLMG028").OrderBy(d => d.Location.SourceSpan.Start).ToArray();
        Assert.Equal(2, cycles.Length);
        Assert.All(cycles, d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
        Assert.Equal("nameof(AskSmallAsync)", run.LocatedText(cycles[0]));
        Assert.Equal(
            "The fallbacks of 'Assistant.AskAsync' form a cycle: Assistant.AskAsync -> Assistant.AskSmallAsync -> Assistant.AskAsync; end the chain with a fallback that is not guarded, or with a guarded method without Fallback",
            cycles[0].GetMessage());
        Assert.Equal("nameof(AskAsync)", run.LocatedText(cycles[1]));
        Assert.Contains("Assistant.AskSmallAsync -> Assistant.AskAsync -> Assistant.AskSmallAsync;", cycles[1].GetMessage(), StringComparison.Ordinal);

        // Both are stubs, so the build shows LLMG028 and no cascade.
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void A_guarded_method_that_is_its_own_fallback_reports_LLMG028()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Fallback = nameof(AskAsync))]
                public partial Task<string> AskAsync(string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        Diagnostic diagnostic = AssertReported(run, "LLMG028", "nameof(AskAsync)");
        Assert.Contains("cycle: Assistant.AskAsync -> Assistant.AskAsync;", diagnostic.GetMessage(), StringComparison.Ordinal);
        Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id == "LLMG012");
    }

    [Fact]
    public void A_method_that_leads_into_a_cycle_is_not_reported_but_every_method_of_the_cycle_is()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Fallback = nameof(AskAAsync))]
                public partial Task<string> AskEntryAsync(string question);

                [Guarded(Fallback = nameof(AskBAsync))]
                public partial Task<string> AskAAsync(string question);

                [Guarded(Fallback = nameof(AskCAsync))]
                public partial Task<string> AskBAsync(string question);

                [Guarded(Fallback = nameof(AskAAsync))]
                public partial Task<string> AskCAsync(string question);

                private Task<string> AskEntryCoreAsync(string question) => Task.FromResult(question);
                private Task<string> AskACoreAsync(string question) => Task.FromResult(question);
                private Task<string> AskBCoreAsync(string question) => Task.FromResult(question);
                private Task<string> AskCCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        Assert.False(run.GeneratorThrew, run.Describe());
        string[] messages = run.GeneratorDiagnostics.Where(d => d.Id == "LLMG028").Select(d => d.GetMessage()).OrderBy(m => m, StringComparer.Ordinal).ToArray();
        Assert.Equal(3, messages.Length);
        Assert.Contains("Assistant.AskAAsync -> Assistant.AskBAsync -> Assistant.AskCAsync -> Assistant.AskAAsync;", messages[0], StringComparison.Ordinal);
        Assert.Contains("Assistant.AskBAsync -> Assistant.AskCAsync -> Assistant.AskAAsync -> Assistant.AskBAsync;", messages[1], StringComparison.Ordinal);
        Assert.Contains("Assistant.AskCAsync -> Assistant.AskAAsync -> Assistant.AskBAsync -> Assistant.AskCAsync;", messages[2], StringComparison.Ordinal);
        Assert.Contains("arguments.Self.AskAAsync(arguments.question)", run.SingleSource(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_chain_follows_the_overload_that_is_called_so_a_plain_first_overload_ends_it()
    {
        // Both overloads fit; the first declared is called, and the cycle check follows that one, so the guarded overload
        // that leads back to AskAsync is not part of the chain.
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Fallback = nameof(AskSmallAsync))]
                public partial Task<string> AskAsync(string question, CancellationToken cancellationToken);

                [Guarded(Fallback = nameof(Fallback))]
                public partial Task<string> AskSmallAsync(string question, CancellationToken cancellationToken);

                private string Fallback(string question) => "busy";

                [Guarded(Fallback = nameof(AskAsync))]
                public partial Task<string> Fallback(string question, CancellationToken cancellationToken);

                private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);
                private Task<string> AskSmallCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);
                private Task<string> FallbackCore(string question, CancellationToken cancellationToken) => Task.FromResult(question);
            }
            """);

        Assert.False(run.GeneratorThrew, run.Describe());
        Assert.DoesNotContain(run.GeneratorDiagnostics, d => d.Id is "LLMG027" or "LLMG028");
        string source = run.SingleSource();
        Assert.Contains("new global::System.Threading.Tasks.ValueTask<string>(arguments.Self.Fallback(arguments.question))", source, StringComparison.Ordinal);
    }

    [Fact]
    public void A_chain_of_generic_methods_is_called_with_the_type_arguments_and_its_cycle_is_found()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Extractor
            {
                [Guarded(Fallback = nameof(ExtractSmallAsync))]
                public partial Task<T> ExtractAsync<T>(string text, CancellationToken cancellationToken);

                [Guarded(Fallback = nameof(ExtractLoopAsync))]
                public partial Task<T> ExtractSmallAsync<T>(string text, CancellationToken cancellationToken);

                [Guarded(Fallback = nameof(ExtractLoopBackAsync))]
                public partial Task<T> ExtractLoopAsync<T>(string text, CancellationToken cancellationToken);

                [Guarded(Fallback = nameof(ExtractLoopAsync))]
                public partial Task<T> ExtractLoopBackAsync<T>(string text, CancellationToken cancellationToken);

                private Task<T> ExtractCoreAsync<T>(string text, CancellationToken cancellationToken) => Task.FromResult(default(T)!);
                private Task<T> ExtractSmallCoreAsync<T>(string text, CancellationToken cancellationToken) => Task.FromResult(default(T)!);
                private Task<T> ExtractLoopCoreAsync<T>(string text, CancellationToken cancellationToken) => Task.FromResult(default(T)!);
                private Task<T> ExtractLoopBackCoreAsync<T>(string text, CancellationToken cancellationToken) => Task.FromResult(default(T)!);
            }
            """);

        Assert.False(run.GeneratorThrew, run.Describe());
        Assert.Equal(2, run.GeneratorDiagnostics.Count(d => d.Id == "LLMG028"));
        Assert.Contains(run.GeneratorDiagnostics, d => d.GetMessage().Contains("Extractor.ExtractLoopAsync -> Extractor.ExtractLoopBackAsync -> Extractor.ExtractLoopAsync;", StringComparison.Ordinal));
        Assert.Contains("arguments.Self.ExtractSmallAsync<T>(arguments.text, executionToken)", run.SingleSource(), StringComparison.Ordinal);
        run.AssertOutputCompilesCleanly();
    }

    [Fact]
    public void Editing_the_next_level_in_another_file_into_a_cycle_reports_it_on_the_untouched_primary_too_and_undoing_it_clears_it()
    {
        // The check on AskAsync reads AskSmallAsync's attribute in the other file: the driver must not keep AskAsync's
        // earlier, clean result when only that other file changed.
        const string Primary = Usings + """
            public partial class Assistant
            {
                [Guarded(Fallback = nameof(AskSmallAsync))]
                public partial Task<string> AskAsync(string question, CancellationToken cancellationToken);

                private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);
            }
            """;
        const string Smaller = Usings + """
            public partial class Assistant
            {
                [Guarded(Fallback = nameof(Busy))]
                public partial Task<string> AskSmallAsync(string question, CancellationToken cancellationToken);

                private Task<string> AskSmallCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);

                private static string Busy(string question) => "busy";
            }
            """;
        CSharpCompilation compilation = GeneratorHarness.Compile(Primary, Smaller);
        GeneratorRun clean = GeneratorHarness.Run(compilation);
        clean.AssertClean();

        SyntaxTree smaller = compilation.SyntaxTrees.Single(t => t.FilePath == GeneratorHarness.SourcePath(1));
        CSharpCompilation cyclic = compilation.ReplaceSyntaxTree(
            smaller, smaller.WithChangedText(SourceText.From(Smaller.Replace("nameof(Busy)", "nameof(AskAsync)", StringComparison.Ordinal))));
        GeneratorRun cycle = GeneratorHarness.Run(cyclic, clean.Driver);

        Assert.Equal(
            new[] { GeneratorHarness.SourcePath(0), GeneratorHarness.SourcePath(1) },
            cycle.GeneratorDiagnostics.Where(d => d.Id == "LLMG028").Select(d => d.Location.GetLineSpan().Path).OrderBy(p => p, StringComparer.Ordinal));

        GeneratorRun undone = GeneratorHarness.Run(compilation, cycle.Driver);
        undone.AssertClean();
    }

    [Fact]
    public void Odd_chains_never_make_the_generator_throw()
    {
        // A missing target further down, a partial target without an implementation, a target that is not a task, and
        // a chain into a method with its own errors: each is reported where it is, and the generator carries on.
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Fallback = nameof(AskSmallAsync))]
                public partial Task<string> AskAsync(string question, CancellationToken cancellationToken);

                [Guarded(Fallback = "Missing")]
                public partial Task<string> AskSmallAsync(string question, CancellationToken cancellationToken);

                [Guarded(Fallback = nameof(Unimplemented))]
                public partial Task<string> AskOtherAsync(string question);

                public partial Task<string> Unimplemented(string question);

                [Guarded(Fallback = nameof(NotATask))]
                public partial Task<string> AskThirdAsync(string question);

                [Guarded(Fallback = nameof(AskThirdAsync))]
                public partial string NotATask(string question);

                private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);
                private Task<string> AskSmallCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);
                private Task<string> AskOtherCoreAsync(string question) => Task.FromResult(question);
                private Task<string> AskThirdCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        Assert.False(run.GeneratorThrew, run.Describe());
        Assert.Contains(run.GeneratorDiagnostics, d => d.Id == "LLMG011");
        Assert.Contains(run.GeneratorDiagnostics, d => d.Id == "LLMG003");
        Assert.Contains("arguments.Self.AskSmallAsync(arguments.question, executionToken)", run.SingleSource(), StringComparison.Ordinal);
    }

    private static Diagnostic AssertReported(GeneratorRun run, string id, string locatedText)
    {
        Assert.False(run.GeneratorThrew, run.Describe());
        Diagnostic diagnostic = run.SingleDiagnostic(id);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal(locatedText, run.LocatedText(diagnostic));
        Assert.Equal(Diagnostics.DiagnosticDescriptors.HelpLinkBase + id + ".md", diagnostic.Descriptor.HelpLinkUri);
        return diagnostic;
    }
}
