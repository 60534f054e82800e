using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text;
using BenchmarkDotNet.Attributes;
using LlmGuard.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace LlmGuard.Benchmarks;

/// <summary>
/// The generator on 1,000 guarded methods across 100 types, against the LoggerMessage generator on 1,000
/// [LoggerMessage] methods: a full run, and a re-run after an edit to an unrelated method body.
/// </summary>
[MemoryDiagnoser]
public class GeneratorBenchmarks
{
    private const int Types = 100;
    private const int MethodsPerType = 10;

    private static readonly CSharpParseOptions s_parse = new(LanguageVersion.Latest);

    private CSharpCompilation _guarded = null!;
    private CSharpCompilation _logging = null!;
    private CSharpCompilation[] _guardedEdits = null!;
    private CSharpCompilation[] _loggingEdits = null!;
    private IIncrementalGenerator _loggerMessage = null!;
    private GeneratorDriver _guardedDriver = null!;
    private GeneratorDriver _loggingDriver = null!;
    private int _edit;

    [GlobalSetup]
    public void Setup()
    {
        string path = typeof(GeneratorBenchmarks).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "LoggerMessageGenerator").Value!;
        _loggerMessage = (IIncrementalGenerator)Activator.CreateInstance(Assembly.LoadFrom(path).GetType("Microsoft.Extensions.Logging.Generators.LoggerMessageGenerator", throwOnError: true)!)!;

        MetadataReference[] references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!)
            .Split(Path.PathSeparator)
            .Where(p => p.EndsWith(".dll", StringComparison.Ordinal))
            .Select(p => MetadataReference.CreateFromFile(p))
            .ToArray();
        _guarded = Compile(Guarded, references);
        _logging = Compile(Logging, references);
        _guardedEdits = new[] { Edit(_guarded, 1), Edit(_guarded, 2) };
        _loggingEdits = new[] { Edit(_logging, 1), Edit(_logging, 2) };
        _guardedDriver = Driver(new GuardedGenerator()).RunGenerators(_guarded);
        _loggingDriver = Driver(_loggerMessage).RunGenerators(_logging);
    }

    [Benchmark(Baseline = true, Description = "LoggerMessage, full run")]
    public GeneratorDriver LoggerMessageFullRun() => Driver(_loggerMessage).RunGenerators(_logging);

    [Benchmark(Description = "LlmGuard, full run")]
    public GeneratorDriver GuardedFullRun() => Driver(new GuardedGenerator()).RunGenerators(_guarded);

    [Benchmark(Description = "LoggerMessage, re-run after an unrelated edit")]
    public GeneratorDriver LoggerMessageRerun() => _loggingDriver = _loggingDriver.RunGenerators(_loggingEdits[_edit++ % 2]);

    [Benchmark(Description = "LlmGuard, re-run after an unrelated edit")]
    public GeneratorDriver GuardedRerun() => _guardedDriver = _guardedDriver.RunGenerators(_guardedEdits[_edit++ % 2]);

    private static GeneratorDriver Driver(IIncrementalGenerator generator) =>
        CSharpGeneratorDriver.Create(new[] { generator.AsSourceGenerator() }, parseOptions: s_parse);

    private static CSharpCompilation Compile(Func<int, string> type, MetadataReference[] references) =>
        CSharpCompilation.Create(
            "Bench",
            Enumerable.Range(0, Types).Select(t => CSharpSyntaxTree.ParseText(type(t), s_parse, $"Type{t}.cs")),
            references,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    // Changes the body of an unrelated method in the first file.
    private static CSharpCompilation Edit(CSharpCompilation compilation, int version)
    {
        SyntaxTree first = compilation.SyntaxTrees.First();
        string text = first.ToString().Replace("int unrelated = 0;", $"int unrelated = {version};", StringComparison.Ordinal);
        return compilation.ReplaceSyntaxTree(first, CSharpSyntaxTree.ParseText(text, s_parse, first.FilePath));
    }

    private static string Guarded(int type)
    {
        var source = new StringBuilder($$"""
            using System.Threading;
            using System.Threading.Tasks;
            using LlmGuard;

            namespace Bench;

            public partial class Assistant{{type}}
            {
                public void Unrelated() { int unrelated = 0; _ = unrelated; }

            """);
        for (int m = 0; m < MethodsPerType; m++)
        {
            source.AppendLine($$"""
                    [Guarded(Key = "{userId}:{turn}", TimeoutMs = 5000)]
                    public partial Task<string> Ask{{m}}Async(string userId, int turn, CancellationToken cancellationToken);

                    private Task<string> Ask{{m}}CoreAsync(string userId, int turn, CancellationToken cancellationToken) => Task.FromResult(userId);
                """);
        }

        return source.Append('}').ToString();
    }

    private static string Logging(int type)
    {
        var source = new StringBuilder($$"""
            using Microsoft.Extensions.Logging;

            namespace Bench;

            public static partial class Log{{type}}
            {
                public static void Unrelated() { int unrelated = 0; _ = unrelated; }

            """);
        for (int m = 0; m < MethodsPerType; m++)
        {
            source.AppendLine($$"""
                    [LoggerMessage(EventId = {{(type * MethodsPerType) + m}}, Level = LogLevel.Information, Message = "User {userId} asked in turn {turn}")]
                    public static partial void Asked{{m}}(ILogger logger, string userId, int turn);
                """);
        }

        return source.Append('}').ToString();
    }
}
