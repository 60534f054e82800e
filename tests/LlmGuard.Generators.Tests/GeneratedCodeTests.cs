using System;
using System.Linq;
using LlmGuard.Generators.Tests.Infrastructure;

namespace LlmGuard.Generators.Tests;

/// <summary>Generated code compiles cleanly for declarations whose names or shapes meet the generator's own names.</summary>
public sealed class GeneratedCodeTests
{
    private const string Usings = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using LlmGuard;

        namespace Demo;

        """;

    [Fact]
    public void Parameters_named_like_the_generated_locals_and_fields_compile()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Fallback = nameof(Fallback))]
                public partial Task<string> AskAsync(string key, string guard, string arguments, string Self, string Pipeline, string Self_, string exception, int executionToken, int attemptToken, CancellationToken cancellationToken);

                private Task<string> AskCoreAsync(string key, string guard, string arguments, string Self, string Pipeline, string Self_, string exception, int executionToken, int attemptToken, CancellationToken cancellationToken) =>
                    Task.FromResult(key + guard + arguments + Self + Pipeline + Self_ + exception + executionToken + attemptToken);

                private static string Fallback(string key, string guard, string arguments, string Self, string Pipeline, string Self_, string exception, int executionToken, int attemptToken, Exception error) =>
                    key + guard + arguments + Self + Pipeline + Self_ + exception + executionToken + attemptToken + error.Message;
            }
            """);

        run.AssertClean();
    }

    [Fact]
    public void Fallback_that_does_not_take_the_exception_is_called_without_it_and_compiles_cleanly()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Fallback = nameof(Sorry))]
                public partial Task<string> AskAsync(string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);

                private string Sorry(string question) => "sorry: " + question;
            }
            """);

        run.AssertClean();
        Assert.Contains("arguments.Self.Sorry(arguments.question)", run.SingleSource(), StringComparison.Ordinal);
    }

    [Fact]
    public void MaxRetryAfterMs_reaches_the_guarded_method_only_when_it_differs_from_the_default()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(MaxRetryAfterMs = 5_000)]
                public partial Task<string> AskAsync(string question);

                [Guarded(MaxRetryAfterMs = GuardedAttribute.DefaultMaxRetryAfterMs)]
                public partial Task<string> AnswerAsync(string question);

                private Task<string> AskCoreAsync(string question) => Task.FromResult(question);

                private Task<string> AnswerCoreAsync(string question) => Task.FromResult(question);
            }
            """);

        run.AssertClean();
        string source = run.SingleSource();
        Assert.Single(source.Split("maxRetryAfterMs:"), part => part.StartsWith(" 5000,", StringComparison.Ordinal));
        Assert.Equal(2, source.Split("maxRetryAfterMs:").Length);
    }

    [Fact]
    public void Overloads_and_a_method_named_like_a_numbered_overload_get_distinct_members()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded]
                public partial Task AskAsync(string question);

                [Guarded]
                public partial Task AskAsync(int question);

                [Guarded]
                public partial Task AskAsync_1(string question);

                private Task AskCoreAsync(string question) => Task.CompletedTask;

                private Task AskCoreAsync(int question) => Task.CompletedTask;

                private Task AskAsync_1Core(string question) => Task.CompletedTask;
            }
            """);

        run.AssertClean();
        string source = run.SingleSource();
        Assert.Contains("__AskAsync_1_Guard", source, StringComparison.Ordinal);
        Assert.Contains("__AskAsync_2_Guard", source, StringComparison.Ordinal);
        Assert.Contains("__AskAsync_3_Guard", source, StringComparison.Ordinal);
    }

    [Fact]
    public void Types_whose_names_differ_only_in_case_get_files_of_their_own()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded]
                public partial Task AskAsync(string question);

                private Task AskCoreAsync(string question) => Task.CompletedTask;
            }

            public partial class assistant
            {
                [Guarded]
                public partial Task AskAsync(string question);

                private Task AskCoreAsync(string question) => Task.CompletedTask;
            }
            """);

        run.AssertClean();
        Assert.Equal(
            new[] { "Demo.Assistant.Guarded.g.cs", "Demo.assistant.Guarded2.g.cs" },
            run.GeneratedSources.Select(s => s.HintName).OrderBy(name => name, StringComparer.Ordinal));
    }

    [Fact]
    public void A_namespace_and_a_type_with_one_full_name_do_not_make_the_generator_throw()
    {
        GeneratorRun run = GeneratorHarness.Run(
            Usings + """
                public partial class Outer
                {
                    public partial class Inner
                    {
                        [Guarded]
                        public partial Task AskAsync(string question);

                        private Task AskCoreAsync(string question) => Task.CompletedTask;
                    }
                }
                """,
            """
            using System.Threading.Tasks;
            using LlmGuard;

            namespace Demo.Outer;

            public partial class Inner
            {
                [Guarded]
                public partial Task AskAsync(string question);

                private Task AskCoreAsync(string question) => Task.CompletedTask;
            }
            """);

        Assert.False(run.GeneratorThrew, run.Describe());
        Assert.Equal(2, run.GeneratedSources.Length);
    }

    [Fact]
    public void Declaration_in_a_nullable_disabled_context_compiles_without_warnings()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            #nullable disable
            public partial class Assistant
            {
                [Guarded(Fallback = nameof(Sorry))]
                public partial Task<string> AskAsync(string question, Uri source);

                private Task<string> AskCoreAsync(string question, Uri source) => Task.FromResult(question + source);

                private static string Sorry(string question, Uri source) => null;
            }
            """);

        run.AssertClean();
    }
}
