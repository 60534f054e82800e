using System.Linq;
using LlmGuard.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace LlmGuard.Generators.Tests.Robustness;

/// <summary>
/// Declarations a user has on screen while typing, which the compiler binds to placeholder symbols (invalid global
/// code, script classes, missing names): the generator must not throw, since a throwing generator drops every file
/// it generated for the project.
/// </summary>
public sealed class InvalidDeclarationTests
{
    private const string Usings = "using System.Threading;\nusing System.Threading.Tasks;\nusing LlmGuard;\n";

    public static TheoryData<string, string> Sources() => new()
    {
        { "method in a file-scoped namespace", Usings + "namespace Acme.Support;\n[Guarded]\npublic partial Task<string> AskAsync(string question);\n" },
        { "method in a block namespace", Usings + "namespace Acme.Support\n{\n    [Guarded]\n    public partial Task<string> AskAsync(string question);\n}\n" },
        { "method at the top level", Usings + "[Guarded]\npublic partial Task<string> AskAsync(string question);\n" },
        { "method beside top-level statements", Usings + "System.Console.WriteLine();\n[Guarded]\npublic partial Task<string> AskAsync(string question);\n" },
        { "method after a type in a namespace", Usings + "namespace Acme;\npublic partial class Host { }\n[Guarded]\npublic partial Task<string> AskAsync(string question);\n" },
        { "type without a name", Usings + "namespace Acme;\npublic partial class\n{\n    [Guarded]\n    public partial Task<string> AskAsync(string question);\n}\n" },
        { "method without a name", Usings + "namespace Acme;\npublic partial class Host\n{\n    [Guarded]\n    public partial Task<string> (string question);\n}\n" },
        { "namespace without a name", Usings + "namespace ;\npublic partial class Host\n{\n    [Guarded]\n    public partial Task<string> AskAsync(string question);\n}\n" },
        { "namespace ending in a dot", Usings + "namespace Acme.;\npublic partial class Host\n{\n    [Guarded]\n    public partial Task<string> AskAsync(string question);\n}\n" },
        { "type with an unclosed type parameter list", Usings + "namespace Acme;\npublic partial class Host<T\n{\n    [Guarded]\n    public partial Task<string> AskAsync(string question);\n}\n" },
        { "type with an empty type parameter list", Usings + "namespace Acme;\npublic partial class Host<>\n{\n    [Guarded]\n    public partial Task<string> AskAsync(string question);\n}\n" },
        { "method with an empty type parameter list", Usings + "namespace Acme;\npublic partial class Host\n{\n    [Guarded]\n    public partial Task<string> AskAsync<>(string question);\n}\n" },
        { "parameter without a name", Usings + "namespace Acme;\npublic partial class Host\n{\n    [Guarded]\n    public partial Task<string> AskAsync(string);\n}\n" },
        { "parameter without a type", Usings + "namespace Acme;\npublic partial class Host\n{\n    [Guarded]\n    public partial Task<string> AskAsync(question);\n}\n" },
        { "return type missing", Usings + "namespace Acme;\npublic partial class Host\n{\n    [Guarded]\n    public partial AskAsync(string question);\n}\n" },
        { "method in an extension block", Usings + "namespace Acme;\npublic static partial class Host\n{\n    extension(string text)\n    {\n        [Guarded]\n        public partial Task<string> AskAsync(string question);\n    }\n}\n" },
        { "method in an enum", Usings + "namespace Acme;\npublic enum Host\n{\n    [Guarded]\n    public partial Task<string> AskAsync(string question);\n}\n" },
        { "method in a delegate-named type", Usings + "namespace Acme;\npublic partial class Host\n{\n    public delegate void D();\n    partial class D\n    {\n        [Guarded]\n        public partial Task<string> AskAsync(string question);\n    }\n}\n" },
        { "type named like a keyword with a generic arity", Usings + "namespace @class.@int;\npublic partial class @event<@string>\n{\n    [Guarded]\n    public partial Task<string> AskAsync(string question);\n\n    private Task<string> AskCoreAsync(string question) => Task.FromResult(question);\n}\n" },
        { "explicit interface implementation", Usings + "namespace Acme;\npublic interface IAsk { Task<string> AskAsync(string question); }\npublic partial class Host : IAsk\n{\n    [Guarded]\n    partial Task<string> IAsk.AskAsync(string question);\n}\n" },
        { "method named like a type parameter list", Usings + "namespace Acme;\npublic partial class Host\n{\n    [Guarded]\n    public partial Task<string> Ask<Async>(string question);\n\n    private Task<string> AskCore<Async>(string question) => Task.FromResult(question);\n}\n" },
        { "attribute on a property", Usings + "namespace Acme;\npublic partial class Host\n{\n    [Guarded]\n    public partial Task<string> Answer { get; }\n}\n" },
        { "types differing only in case and arity", Usings + "namespace Acme;\npublic partial class Host<T>\n{\n    [Guarded]\n    public partial Task<string> AskAsync(string question);\n\n    private Task<string> AskCoreAsync(string question) => Task.FromResult(question);\n}\npublic partial class host<T>\n{\n    [Guarded]\n    public partial Task<string> AskAsync(string question);\n\n    private Task<string> AskCoreAsync(string question) => Task.FromResult(question);\n}\n" },
    };

    [Theory]
    [MemberData(nameof(Sources))]
    public void Generator_does_not_throw_on_a_declaration_being_typed(string description, string source)
    {
        GeneratorRun run = GeneratorHarness.Run(source);

        Assert.False(run.GeneratorThrew, $"{description}:\n{run.Describe()}");
        Diagnostic[] generatedErrors = run.OutputErrors.Where(d => d.Location.SourceTree is { } tree && !run.Input.SyntaxTrees.Contains(tree)).ToArray();
        Assert.True(generatedErrors.Length == 0, $"{description}: the generated code adds errors of its own to the user's.\n{run.Describe()}");
    }

    [Theory]
    [InlineData("namespace Acme.Support;\n[Guarded]\npublic partial Task<string> AskAsync(string question);\n")]
    [InlineData("namespace Acme.Support\n{\n    [Guarded]\n    public partial Task<string> AskAsync(string question);\n}\n")]
    [InlineData("[Guarded]\npublic partial Task<string> AskAsync(string question);\n")]
    [InlineData("System.Console.WriteLine();\n[Guarded]\npublic partial Task<string> AskAsync(string question);\n")]
    public void Method_outside_any_type_reports_LLMG017_and_generates_nothing(string declaration)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + declaration);

        Diagnostic diagnostic = run.SingleDiagnostic("LLMG017");
        Assert.Equal("'AskAsync' cannot be guarded: it is not declared in a type (top-level or script code), and generated code can only extend a partial type; declare it in a partial class", diagnostic.GetMessage());
        Assert.Equal("AskAsync", run.LocatedText(diagnostic));
        Assert.Empty(run.GeneratedSources);
    }

    [Fact]
    public void Explicit_interface_implementation_reports_LLMG017_and_generates_nothing()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + "namespace Acme;\npublic interface IAsk { Task<string> AskAsync(string question); }\npublic partial class Host : IAsk\n{\n    [Guarded]\n    public partial Task<string> IAsk.AskAsync(string question);\n}\n");

        Assert.Contains("a partial method cannot implement an interface member explicitly", run.SingleDiagnostic("LLMG017").GetMessage(), System.StringComparison.Ordinal);
        Assert.Empty(run.GeneratedSources);
    }

    [Fact]
    public void Method_of_a_script_reports_LLMG017_and_generates_nothing()
    {
        CSharpParseOptions script = GeneratorHarness.ParseOptions.WithKind(SourceCodeKind.Script);
        CSharpCompilation compilation = GeneratorHarness.Compile()
            .AddSyntaxTrees(CSharpSyntaxTree.ParseText(Usings + "[Guarded]\npublic partial Task<string> AskAsync(string question);\n", script, "Script.csx"));
        GeneratorRunResult result = GeneratorHarness.RunGeneratorOnly(compilation);

        Assert.Null(result.Exception);
        Assert.Equal("LLMG017", Assert.Single(result.Diagnostics).Id);
        Assert.Empty(result.GeneratedSources);
    }

    [Theory]
    [InlineData("public partial class\n{\n    [Guarded]\n    public partial Task<string> AskAsync(string question);\n}\n")]
    [InlineData("public partial class Host\n{\n    [Guarded]\n    public partial Task<string> (string question);\n}\n")]
    public void Declaration_with_a_missing_name_generates_nothing_and_leaves_the_error_to_the_compiler(string declaration)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + "namespace Acme;\n" + declaration);

        Assert.Empty(run.GeneratedSources);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.Contains(run.Input.GetDiagnostics(), d => d.Id == "CS1001");
    }

    [Fact]
    public void Escaped_keywords_in_the_namespace_and_type_name_the_file_without_their_at_sign()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + "namespace @class.@int;\npublic partial class @event<@string>\n{\n    [Guarded]\n    public partial Task<string> AskAsync(string question);\n\n    private Task<string> AskCoreAsync(string question) => Task.FromResult(question);\n}\n");

        run.AssertClean();
        Assert.Equal("class.int.event`1.Guarded.g.cs", Assert.Single(run.GeneratedSources).HintName);
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Generator_does_not_throw_on_the_same_declaration_in_a_script(string description, string source)
    {
        CSharpParseOptions script = GeneratorHarness.ParseOptions.WithKind(SourceCodeKind.Script);
        CSharpCompilation compilation = GeneratorHarness.Compile()
            .AddSyntaxTrees(CSharpSyntaxTree.ParseText(source, script, "Script.csx"));
        GeneratorRunResult result = GeneratorHarness.RunGeneratorOnly(compilation);

        Assert.True(result.Exception is null && !result.Diagnostics.Any(d => d.Id is "CS8785" or "AD0001"), $"{description}: {result.Exception}");
    }
}
