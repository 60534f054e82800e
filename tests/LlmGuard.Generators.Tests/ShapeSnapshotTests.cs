using System;
using LlmGuard.Generators.Tests.Infrastructure;

namespace LlmGuard.Generators.Tests;

/// <summary>
/// The generated source for every declaration shape the contract allows, checked against reviewed snapshots. Each
/// output must compile without errors or warnings; LlmGuard.Tests calls the same shapes for real (ShapeTests).
/// </summary>
public sealed class ShapeSnapshotTests
{
    private const string Usings = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using LlmGuard;

        """;

    [Fact]
    public void Static_methods_use_the_static_runtime_member_or_else_the_default_runtime()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo.Statics;

            public static partial class Glossary
            {
                public static GuardRuntime? Runtime { get; set; }

                [Guarded]
                public static partial Task<string> DefineAsync(string term, CancellationToken cancellationToken = default);

                private static Task<string> DefineCoreAsync(string term, CancellationToken cancellationToken) => Task.FromResult(term);
            }

            public static partial class DefaultGlossary
            {
                [Guarded]
                public static partial Task<string> DefineAsync(string term);

                private static Task<string> DefineCoreAsync(string term) => Task.FromResult(term);
            }
            """);

        run.AssertClean();
        string withMember = run.Source("Demo.Statics.Glossary.Guarded.g.cs");
        string withoutMember = run.Source("Demo.Statics.DefaultGlossary.Guarded.g.cs");
        Assert.Contains("private static global::LlmGuard.GuardRuntime __GuardRuntime => Runtime ?? global::LlmGuard.GuardRuntime.Default;", withMember, StringComparison.Ordinal);
        Assert.Contains(".For(global::LlmGuard.GuardRuntime.Default)", withoutMember, StringComparison.Ordinal);
        Snapshot.VerifyGenerated(withMember, "StaticWithRuntimeMember");
        Snapshot.VerifyGenerated(withoutMember, "StaticWithDefaultRuntime");
    }

    [Fact]
    public void Interfaces_get_a_default_implementation_and_a_native_AOT_root_for_each_instance_method()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo.Interfaces;

            public partial interface ITicketRouter
            {
                protected GuardRuntime Runtime { get; }

                [Guarded(Key = "{ticketId}")]
                public partial Task<string> RouteAsync(string ticketId, [NotInKey] string text, CancellationToken cancellationToken = default);

                protected Task<string> RouteCoreAsync(string ticketId, string text, CancellationToken cancellationToken);
            }

            public static partial class Registry<TKey>
            {
                private partial interface ILookup<TValue>
                {
                    [Guarded]
                    public partial Task<TValue> FindAsync(string name);

                    [Guarded]
                    public partial Task<T> ConvertAsync<T>(string name);

                    [Guarded]
                    public static partial Task<string> DescribeAsync(string queue);

                    protected Task<TValue> FindCoreAsync(string name);

                    protected Task<T> ConvertCoreAsync<T>(string name);

                    private static Task<string> DescribeCoreAsync(string queue) => Task.FromResult(queue);
                }
            }
            """);

        run.AssertClean();
        string router = run.Source("Demo.Interfaces.ITicketRouter.Guarded.g.cs");
        string lookup = run.Source("Demo.Interfaces.Registry`1.ILookup`1.Guarded.g.cs");

        // Named by metadata name, so a private nested interface can be named from outside it; a generic method with its
        // arity; the static method needs no root, since only instance methods of an interface lose their bodies.
        Assert.Contains("[global::System.Diagnostics.CodeAnalysis.DynamicDependency(\"RouteAsync\", \"Demo.Interfaces.ITicketRouter\", \"GeneratorTests\")]", router, StringComparison.Ordinal);
        Assert.Contains("[global::System.Diagnostics.CodeAnalysis.DynamicDependency(\"FindAsync\", \"Demo.Interfaces.Registry`1.ILookup`1\", \"GeneratorTests\")]", lookup, StringComparison.Ordinal);
        Assert.Contains("[global::System.Diagnostics.CodeAnalysis.DynamicDependency(\"ConvertAsync``1\", \"Demo.Interfaces.Registry`1.ILookup`1\", \"GeneratorTests\")]", lookup, StringComparison.Ordinal);
        Assert.DoesNotContain("DynamicDependency(\"DescribeAsync\"", lookup, StringComparison.Ordinal);
        Snapshot.VerifyGenerated(router, "Interface");
        Snapshot.VerifyGenerated(lookup, "NestedGenericInterface");
    }

    [Fact]
    public void Records_and_readonly_structs_are_redeclared_with_their_own_keywords()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo.Values;

            public partial record RecordAssistant(GuardRuntime Runtime, string Persona)
            {
                [Guarded]
                public partial Task<string> AskAsync(string question, CancellationToken cancellationToken = default);

                private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(Persona + question);
            }

            public readonly partial record struct TenantQuota(GuardRuntime Runtime, string Tenant)
            {
                [Guarded]
                public partial Task<int> CountTicketsAsync(string status);

                private Task<int> CountTicketsCoreAsync(string status) => Task.FromResult(Tenant.Length + status.Length);
            }

            public readonly partial struct RegionRouter(GuardRuntime runtime, string region)
            {
                [Guarded]
                public partial ValueTask<string> RouteAsync(string ticketId, CancellationToken cancellationToken = default);

                private ValueTask<string> RouteCoreAsync(string ticketId, CancellationToken cancellationToken) => new(region + ticketId);
            }
            """);

        run.AssertClean();
        string record = run.Source("Demo.Values.RecordAssistant.Guarded.g.cs");
        string recordStruct = run.Source("Demo.Values.TenantQuota.Guarded.g.cs");
        string readonlyStruct = run.Source("Demo.Values.RegionRouter.Guarded.g.cs");
        Assert.Contains("partial record RecordAssistant", record, StringComparison.Ordinal);
        Assert.Contains("partial record struct TenantQuota", recordStruct, StringComparison.Ordinal);
        Assert.Contains("partial struct RegionRouter", readonlyStruct, StringComparison.Ordinal);
        Snapshot.VerifyGenerated(record, "Record");
        Snapshot.VerifyGenerated(recordStruct, "ReadonlyRecordStruct");
        Snapshot.VerifyGenerated(readonlyStruct, "ReadonlyStruct");
    }

    [Fact]
    public void Type_nested_two_levels_deep_is_redeclared_inside_its_whole_chain()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo.Nesting;

            public static partial class Support
            {
                public partial class Escalations
                {
                    public sealed partial class Desk(GuardRuntime runtime)
                    {
                        [Guarded]
                        public partial Task<string> EscalateAsync(string ticketId, CancellationToken cancellationToken = default);

                        private Task<string> EscalateCoreAsync(string ticketId, CancellationToken cancellationToken) => Task.FromResult(ticketId);
                    }
                }
            }
            """);

        run.AssertClean();
        Snapshot.VerifyGenerated(run.Source("Demo.Nesting.Support.Escalations.Desk.Guarded.g.cs"), "NestedTwoLevels");
    }

    [Fact]
    public void Generic_containing_type_and_generic_method_get_state_per_type_argument()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo.Generics;

            public partial class Repository<T>(GuardRuntime runtime, Func<string, T> parse)
                where T : class
            {
                [Guarded]
                public partial Task<T> LoadAsync(string id, CancellationToken cancellationToken = default);

                [Guarded(Key = "{id}", Fallback = nameof(NoView))]
                public partial Task<TView?> ProjectAsync<TView>(string id)
                    where TView : IParsable<TView>;

                private Task<T> LoadCoreAsync(string id, CancellationToken cancellationToken) => Task.FromResult(parse(id));

                private Task<TView?> ProjectCoreAsync<TView>(string id)
                    where TView : IParsable<TView> => Task.FromResult<TView?>(TView.Parse(id, null));

                private static TView? NoView<TView>(string id)
                    where TView : IParsable<TView> => default;
            }
            """);

        run.AssertClean();
        string source = run.Source("Demo.Generics.Repository`1.Guarded.g.cs");
        Assert.Contains("private static readonly global::LlmGuard.Infrastructure.GuardedMethod<T> __LoadAsync_Guard", source, StringComparison.Ordinal);
        Assert.Contains("private static class __ProjectAsync_Guard<TView> where TView : global::System.IParsable<TView>", source, StringComparison.Ordinal);
        Snapshot.VerifyGenerated(source, "GenericContainingTypeAndGenericMethod");
    }

    [Fact]
    public void Every_result_shape_runs_its_execution_as_a_task_of_its_result()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo.Results;

            public sealed partial class ResultShapes(GuardRuntime runtime)
            {
                [Guarded]
                public partial ValueTask<string> DescribeAsync(string id);

                [Guarded]
                public partial Task ArchiveAsync(string id);

                [Guarded]
                public partial ValueTask AcknowledgeAsync(string id, CancellationToken cancellationToken = default);

                [Guarded]
                public partial Task<int> CountAsync(string queue);

                [Guarded]
                public partial Task<string?> FindTitleAsync(string id);

                [Guarded]
                public partial Task<int?> FindPriorityAsync(string id);

                private ValueTask<string> DescribeCoreAsync(string id) => new(id);

                private Task ArchiveCoreAsync(string id) => Task.CompletedTask;

                private ValueTask AcknowledgeCoreAsync(string id, CancellationToken cancellationToken) => default;

                private Task<int> CountCoreAsync(string queue) => Task.FromResult(queue.Length);

                private Task<string?> FindTitleCoreAsync(string id) => Task.FromResult<string?>(null);

                private Task<int?> FindPriorityCoreAsync(string id) => Task.FromResult<int?>(null);
            }
            """);

        run.AssertClean();
        string source = run.Source("Demo.Results.ResultShapes.Guarded.g.cs");
        Assert.Contains("GuardedMethod<global::LlmGuard.Infrastructure.VoidResult> __ArchiveAsync_Guard", source, StringComparison.Ordinal);
        Assert.Contains("GuardedMethod<string?> __FindTitleAsync_Guard", source, StringComparison.Ordinal);
        Assert.Contains("GuardedMethod<int?> __FindPriorityAsync_Guard", source, StringComparison.Ordinal);
        Snapshot.VerifyGenerated(source, "ResultShapes");
    }

    [Fact]
    public void Keyword_names_optional_parameters_and_a_token_in_any_position_reach_the_core_in_order()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo.Parameters;

            public sealed partial class ParameterShapes(GuardRuntime runtime)
            {
                [Guarded]
                public partial Task<string> RouteAsync(string @class, string @event);

                [Guarded(Key = "{event}")]
                public partial Task<string> RouteByEventAsync([NotInKey] string @class, string @event);

                [Guarded]
                public partial Task<string> TranslateAsync(string text, string language = "en", int version = 1);

                [Guarded]
                public partial Task<string> TokenFirstAsync(CancellationToken cancellationToken, string sessionId, string question);

                [Guarded]
                public partial Task<string> TokenMiddleAsync(string sessionId, CancellationToken cancellationToken, string question);

                [Guarded]
                public partial Task<string> TokenLastAsync(string sessionId, string question, CancellationToken cancellationToken);

                private Task<string> RouteCoreAsync(string @class, string @event) => Task.FromResult(@class + @event);

                private Task<string> RouteByEventCoreAsync(string @class, string @event) => Task.FromResult(@class + @event);

                private Task<string> TranslateCoreAsync(string text, string language, int version) => Task.FromResult(text + language + version);

                private Task<string> TokenFirstCoreAsync(CancellationToken cancellationToken, string sessionId, string question) => Task.FromResult(sessionId + question);

                private Task<string> TokenMiddleCoreAsync(string sessionId, CancellationToken cancellationToken, string question) => Task.FromResult(sessionId + question);

                private Task<string> TokenLastCoreAsync(string sessionId, string question, CancellationToken cancellationToken) => Task.FromResult(sessionId + question);
            }
            """);

        run.AssertClean();
        string source = run.Source("Demo.Parameters.ParameterShapes.Guarded.g.cs");
        Assert.Contains("arguments.Self.TokenFirstCoreAsync(attemptToken, arguments.sessionId, arguments.question)", source, StringComparison.Ordinal);
        Assert.Contains("arguments.Self.TokenMiddleCoreAsync(arguments.sessionId, attemptToken, arguments.question)", source, StringComparison.Ordinal);
        Assert.Contains("arguments.Self.TokenLastCoreAsync(arguments.sessionId, arguments.question, attemptToken)", source, StringComparison.Ordinal);
        Snapshot.VerifyGenerated(source, "ParameterShapes");
    }

    [Fact]
    public void Overloads_with_alike_keys_and_several_methods_each_get_their_own_guard()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo.Overloading;

            public sealed partial class Catalog(GuardRuntime runtime)
            {
                [Guarded]
                public partial Task<string> LookupAsync(string id);

                [Guarded]
                public partial Task<string> LookupAsync(int id);

                [Guarded]
                public partial Task<string> LookupAsync(string id, string locale);

                [Guarded]
                public partial Task<string> SuggestAsync(string id);

                private Task<string> LookupCoreAsync(string id) => Task.FromResult(id);

                private Task<string> LookupCoreAsync(int id) => Task.FromResult(id.ToString());

                private Task<string> LookupCoreAsync(string id, string locale) => Task.FromResult(id + locale);

                private Task<string> SuggestCoreAsync(string id) => Task.FromResult(id);
            }
            """);

        run.AssertClean();
        string source = run.Source("Demo.Overloading.Catalog.Guarded.g.cs");
        foreach (string guard in new[] { "__LookupAsync_1_Guard", "__LookupAsync_2_Guard", "__LookupAsync_3_Guard", "__SuggestAsync_Guard" })
        {
            Assert.Contains(guard + " =", source, StringComparison.Ordinal);
        }

        Snapshot.VerifyGenerated(source, "OverloadsAndSeveralMethods");
    }

    [Fact]
    public void Partial_declarations_in_several_files_get_one_generated_file_on_the_runtime_of_another_file()
    {
        GeneratorRun run = GeneratorHarness.Run(
            Usings + """
                namespace Demo.Split;

                public sealed partial class SplitDesk
                {
                    private readonly GuardRuntime _runtime;

                    public SplitDesk(GuardRuntime runtime) => _runtime = runtime;
                }
                """,
            Usings + """
                namespace Demo.Split;

                public sealed partial class SplitDesk
                {
                    [Guarded]
                    public partial Task<string> AskAsync(string sessionId, CancellationToken cancellationToken = default);

                    [Guarded]
                    public partial Task<string> ClarifyAsync(string sessionId, CancellationToken cancellationToken = default);

                    private Task<string> AskCoreAsync(string sessionId, CancellationToken cancellationToken) => Task.FromResult(sessionId);

                    private Task<string> ClarifyCoreAsync(string sessionId, CancellationToken cancellationToken) => Task.FromResult(sessionId);
                }
                """,
            Usings + """
                namespace Demo.Split;

                public sealed partial class SplitDesk
                {
                    [Guarded]
                    public partial Task<string> SummarizeAsync(string sessionId);

                    private Task<string> SummarizeCoreAsync(string sessionId) => Task.FromResult(sessionId);
                }
                """);

        run.AssertClean();
        Assert.Equal("Demo.Split.SplitDesk.Guarded.g.cs", Assert.Single(run.GeneratedSources).HintName);
        string source = run.SingleSource();
        Assert.Contains("__GuardRuntime => this._runtime ?? global::LlmGuard.GuardRuntime.Default;", source, StringComparison.Ordinal);
        Snapshot.VerifyGenerated(source, "SplitAcrossFiles");
    }

    [Fact]
    public void Global_namespace_type_with_a_runtime_field_declares_no_namespace()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public sealed partial class GlobalNamespaceDesk
            {
                private readonly GuardRuntime _runtime;

                public GlobalNamespaceDesk(GuardRuntime runtime) => _runtime = runtime;

                [Guarded]
                public partial Task<string> AskAsync(string sessionId, string question);

                private Task<string> AskCoreAsync(string sessionId, string question) => Task.FromResult(sessionId + question);
            }
            """);

        run.AssertClean();
        string source = run.Source("GlobalNamespaceDesk.Guarded.g.cs");
        Assert.DoesNotContain("namespace", source, StringComparison.Ordinal);
        Snapshot.VerifyGenerated(source, "GlobalNamespaceWithRuntimeField");
    }

    [Fact]
    public void Every_accessibility_is_repeated_on_the_implementation()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo.Access;

            public partial class AccessLevels(GuardRuntime runtime)
            {
                [Guarded]
                internal partial Task<string> InternalAsync(string id);

                [Guarded]
                protected internal partial Task<string> ProtectedInternalAsync(string id);

                [Guarded]
                private partial Task<string> PrivateAsync(string id);

                [Guarded]
                private protected partial Task<string> PrivateProtectedAsync(string id);

                public Task<string> CallPrivateAsync(string id) => PrivateAsync(id);

                private Task<string> InternalCoreAsync(string id) => Task.FromResult(id);

                private Task<string> ProtectedInternalCoreAsync(string id) => Task.FromResult(id);

                private Task<string> PrivateCoreAsync(string id) => Task.FromResult(id);

                private Task<string> PrivateProtectedCoreAsync(string id) => Task.FromResult(id);
            }
            """);

        run.AssertClean();
        string source = run.Source("Demo.Access.AccessLevels.Guarded.g.cs");
        Assert.Contains("internal partial global::System.Threading.Tasks.Task<string> InternalAsync(", source, StringComparison.Ordinal);
        Assert.Contains("protected internal partial global::System.Threading.Tasks.Task<string> ProtectedInternalAsync(", source, StringComparison.Ordinal);
        Assert.Contains("private partial global::System.Threading.Tasks.Task<string> PrivateAsync(", source, StringComparison.Ordinal);
        Assert.Contains("private protected partial global::System.Threading.Tasks.Task<string> PrivateProtectedAsync(", source, StringComparison.Ordinal);
        Snapshot.VerifyGenerated(source, "Accessibility");
    }

    [Fact]
    public void File_with_nullable_annotations_disabled_compiles_without_warnings()
    {
        GeneratorRun run = GeneratorHarness.Run("#nullable disable\n" + Usings + """
            namespace Demo.Legacy;

            public sealed class LegacyRequest
            {
                public string CustomerId { get; set; }

                public string Text { get; set; }
            }

            public sealed partial class LegacyAssistant
            {
                private readonly GuardRuntime _runtime;

                public LegacyAssistant(GuardRuntime runtime) => _runtime = runtime;

                [Guarded]
                public partial Task<string> AskAsync(string sessionId, string question);

                [Guarded(Key = "{request.CustomerId}", Fallback = nameof(Unavailable))]
                public partial Task<string> HandleAsync(LegacyRequest request, CancellationToken cancellationToken = default);

                [Guarded]
                public partial Task<T> FindAsync<T>(string id)
                    where T : class;

                private Task<string> AskCoreAsync(string sessionId, string question) => Task.FromResult<string>(null);

                private Task<string> HandleCoreAsync(LegacyRequest request, CancellationToken cancellationToken) => Task.FromResult(request?.Text);

                private Task<T> FindCoreAsync<T>(string id)
                    where T : class => Task.FromResult<T>(null);

                private static string Unavailable(LegacyRequest request, Exception exception) => null;
            }
            """);

        run.AssertClean();
        Snapshot.VerifyGenerated(run.Source("Demo.Legacy.LegacyAssistant.Guarded.g.cs"), "NullableDisabled");
    }
}
