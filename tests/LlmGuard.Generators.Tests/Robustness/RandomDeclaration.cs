using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace LlmGuard.Generators.Tests.Robustness;

/// <summary>
/// Writes one random [Guarded] declaration from a seed: valid, invalid for LlmGuard, or not even valid C#.
/// The same seed always writes the same source.
/// </summary>
internal sealed class RandomDeclaration
{
    /// <summary>Types the declarations use, in a file of their own so a truncated declaration keeps them.</summary>
    public const string SupportTypes = """
        using System;

        namespace Fuzz;

        public sealed record Req(string UserId, int SessionId, DateTime At);

        public sealed class Opaque
        {
            public int Id { get; set; }
        }

        public enum Tone { Formal, Casual }
        """;

    private static readonly Parameter[] s_parameters =
    {
        Tame("string question", "question", "question.Length"), Tame("int id", "id"), Tame("Req req", "req.UserId", "req.SessionId", "req.At", "req"),
        Tame("DateTime at", "at"), Tame("DateTimeOffset when", "when", "when.Offset"), Tame("int? maybe", "maybe"),
        Tame("string? nullableText", "nullableText", "nullableText.Length"), Tame("string @class", "class", "@class"), Tame("Guid key", "key"),
        Tame("string guard", "guard"), Tame("[NotInKey] string note"), Tame("Tone tone", "tone"), Tame("decimal amount", "amount"),
        Tame("Uri uri", "uri", "uri.Host"), Tame("TimeSpan span", "span"), Tame("nint native", "native"), Tame("char letter", "letter"),
        Tame("bool flag", "flag"), Tame("string arguments", "arguments"), Tame("int Self", "Self"), Tame("(int A, string B) pair", "pair", "pair.A", "pair.B"),
        new("CancellationToken cancellationToken", IsToken: true, Tame: true), new("CancellationToken other", IsToken: true, Tame: true),
        new("CancellationToken token = default", IsToken: true, Tame: true),
        new("ref int counter"), new("out int result"), new("in int size"), new("ref readonly int view"),
        new("Span<char> buffer"), new("ReadOnlySpan<char> text"), new("scoped ReadOnlySpan<char> scopedText"),
        new("int* pointer", IsPointer: true), new("delegate*<int, void> callback", IsPointer: true),
        new("List<string> list"), new("int[] array"), new("Opaque opaque"), new("object boxed"), new("dynamic anything"),
        new("IEnumerable<int> sequence"), new("Func<int> factory"), new("T value", NeedsT: true),
    };

    // Text, and the result a fallback returns: null for Task and ValueTask, "" for a type that is no task.
    private static readonly (string Text, string? Result, bool NeedsT)[] s_returns =
    {
        ("Task<string>", "string", false), ("Task<int>", "int", false), ("ValueTask<string?>", "string?", false),
        ("Task", null, false), ("ValueTask", null, false), ("Task<int?>", "int?", false), ("ValueTask<Req>", "Req", false),
        ("Task<List<string>>", "List<string>", false), ("Task<(int A, string B)>", "(int A, string B)", false),
        ("string", "", false), ("void", "", false), ("int", "", false), ("IAsyncEnumerable<int>", "", false),
        ("Task<Opaque?>", "Opaque?", false), ("Task<dynamic>", "dynamic", false), ("Task<int[]>", "int[]", false),
        ("ValueTask<T>", "T", true), ("Task<T?>", "T?", true), ("Task<Task<int>>", "Task<int>", false),
        ("System.Threading.Tasks.Task<string>", "string", false), ("global::System.Threading.Tasks.ValueTask", null, false),
    };

    private static readonly string[] s_names = { "AskAsync", "Ask", "@event", "SummarizeAsync", "AskCoreAsync", "Run" };

    private static readonly string[] s_methodModifiers =
    {
        "public partial", "public partial", "public partial", "private partial", "internal partial", "protected internal partial",
        "public static partial", "private static partial", "partial", "public", "public virtual partial", "public new partial",
        "public async partial", "public unsafe partial",
    };

    private static readonly string[] s_typeKeywords =
    {
        "partial class", "partial class", "partial class", "partial class", "sealed partial class", "static partial class",
        "class", "partial struct", "partial record", "partial record struct", "partial interface", "abstract partial class",
    };

    private static readonly string[] s_integers =
    {
        "0", "1", "9", "10", "200", "30_000", "-1", "int.MinValue", "int.MaxValue", "86_400_000", "86_400_001", "100", "101",
        "'c'", "\"5\"", "true", "null", "5.5", "5L", "(int)5u", "1 << 20", "-0",
    };

    private static readonly string[] s_templateWords =
    {
        "question", "id", "req", "UserId", "SessionId", "At", "opaque", "Id", "@class", "class", "cancellationToken", "missing",
        "Length", "when", "maybe", "note", "key", "value", "pair", "A",
    };

    private readonly Random _random;

    private RandomDeclaration(int seed) => _random = new Random(seed);

    public static string Create(int seed) => new RandomDeclaration(seed).Write();

    private string Write()
    {
        // A tame declaration is valid C# that LlmGuard should accept; a wild one may be anything.
        bool tame = Chance(0.45);
        bool generic = Chance(0.15);
        Parameter[] parameters = PickParameters(generic, tame);
        (string returnType, string? result, _) = Pick(s_returns.Where(r => (generic || !r.NeedsT) && (!tame || r.Result != "")).ToArray());
        string name = Pick(s_names);
        string modifiers = tame ? Pick("public partial", "private partial", "internal partial", "public static partial") : Pick(s_methodModifiers);
        bool isStatic = modifiers.Contains("static", StringComparison.Ordinal);
        string methodTypeParameters = !tame && Chance(0.05) ? "<TM>" : string.Empty;
        string keyword = !tame ? Pick(s_typeKeywords)
            : isStatic ? Pick("partial class", "static partial class", "sealed partial class", "partial record")
            : Pick("partial class", "sealed partial class", "partial record", "abstract partial class");
        string unsafeModifier = parameters.Any(p => p.IsPointer) && Chance(0.8) ? "unsafe " : string.Empty;
        string primaryConstructor = keyword.EndsWith("class", StringComparison.Ordinal) && !keyword.Contains("static", StringComparison.Ordinal) && !(tame && isStatic) && Chance(0.1)
            ? "(GuardRuntime runtime)"
            : string.Empty;

        string coreName = DefaultCoreName(name.TrimStart('@'));
        bool hasFallback = false;
        var arguments = new List<string>();
        foreach (string argument in new[] { "Scene", "Key", "TimeoutMs", "MaxRetries", "RetryDelayMs", "Fallback", "Core", "SingleFlight" })
        {
            if (!Chance(0.3))
            {
                continue;
            }

            string value = (argument, tame) switch
            {
                ("Scene", true) => Pick("\"scene\"", "\"ticket_autofill\"", Literal("s" + RandomText())),
                ("Scene", false) => Pick("null", "\"\"", "\" \"", "\"scene\"", Literal(RandomText()), "5"),
                ("Key", true) => Literal(TameTemplate(parameters)),
                ("Key", false) => Pick("null", "\"\"", Literal(RandomTemplate()), Literal(RandomTemplate()), Literal(TameTemplate(parameters)), "5", "true", "nameof(Opaque)"),
                ("TimeoutMs", true) => Pick("0", "10", "200", "30_000", "86_400_000"),
                ("MaxRetries", true) => Pick("0", "1", "100"),
                ("RetryDelayMs", true) => Pick("0", "1", "86_400_000"),
                ("Fallback", true) => "nameof(Fallback)",
                ("Fallback", false) => Pick("nameof(Fallback)", "\"Fallback\"", "\"Missing\"", "null", "\"\"", Literal(coreName), "nameof(Opaque)", "5"),
                ("Core", true) => "nameof(CallModel)",
                ("Core", false) => Pick("nameof(CallModel)", "\"CallModel\"", "\"Missing\"", "null", "\"\"", Literal(name.TrimStart('@')), "5"),
                ("SingleFlight", true) => Pick("true", "false"),
                ("SingleFlight", false) => Pick("true", "false", "\"no\"", "1", "null"),
                _ => Pick(s_integers),
            };
            if (argument == "Core" && value.Contains("CallModel", StringComparison.Ordinal))
            {
                coreName = "CallModel";
            }

            hasFallback |= argument == "Fallback";
            arguments.Add(argument + " = " + value);
        }

        if (!tame && Chance(0.05))
        {
            arguments.Add(Pick("Bogus = 1", "TimeoutMs = 20", "\"positional\""));
        }

        string attribute = arguments.Count == 0 ? "[Guarded]" : $"[Guarded({string.Join(", ", arguments)})]";
        if (!tame && Chance(0.3))
        {
            attribute = Pick(
                $"[LlmGuard.GuardedAttribute({string.Join(", ", arguments)})]",
                $"[Guarded({string.Join(", ", arguments)}), Obsolete]",
                $"[Guarded({string.Join(", ", arguments)})][Guarded]");
        }

        string parameterList = string.Join(", ", parameters.Select(p => p.Text));
        string staticModifier = isStatic ? "static " : string.Empty;
        string matchingCore = $"private {staticModifier}{returnType} {coreName}({parameterList}) => throw new NotSupportedException();";
        var members = new StringBuilder();
        members.AppendLine(!tame
            ? Pick(
                string.Empty,
                string.Empty,
                string.Empty,
                "private readonly GuardRuntime _runtime = new();",
                "private static GuardRuntime? s_runtime;",
                "private readonly GuardRuntime _a = new(), _b = new();",
                "public GuardRuntime Runtime { get; } = new();",
                "private GuardRuntime Runtime => throw new NotSupportedException();")
            : primaryConstructor.Length > 0 ? string.Empty
            : isStatic ? Pick(string.Empty, "internal static GuardRuntime? Runtime { get; set; }")
            : Pick(string.Empty, "internal GuardRuntime? Runtime { get; set; }", "internal static GuardRuntime? Runtime { get; set; }"));
        members.AppendLine(attribute);
        members.AppendLine(!tame && Chance(0.05)
            ? $"{modifiers} {returnType} {name}{methodTypeParameters}({parameterList}) => throw new NotSupportedException();"
            : $"{modifiers} {returnType} {name}{methodTypeParameters}({parameterList});");
        members.AppendLine(tame
            ? matchingCore
            : Pick(
                string.Empty,
                matchingCore,
                matchingCore,
                matchingCore,
                $"private {staticModifier}Task<object> {coreName}({parameterList}) => throw new NotSupportedException();",
                $"private {staticModifier}{returnType} {coreName}({string.Join(", ", parameters.Skip(1).Select(p => p.Text))}) => throw new NotSupportedException();",
                $"private {(isStatic ? string.Empty : "static ")}{returnType} {coreName}({parameterList}) => throw new NotSupportedException();",
                $"private {staticModifier}{returnType} {coreName}<TX>({parameterList}) => throw new NotSupportedException();",
                $"private int {coreName} => 0;"));
        members.AppendLine(Fallback(parameters, result, staticModifier, matching: tame && hasFallback, none: tame && !hasFallback));

        string type = $"public {unsafeModifier}{keyword} Host{(generic ? "<T>" : string.Empty)}{primaryConstructor}\n{{\n{members}}}";
        string body = Pick("none", "none", "partial", tame ? "partial" : "plain") switch
        {
            "partial" => $"public partial class Outer\n{{\n{type}\n}}",
            "plain" => $"public class Outer\n{{\n{type}\n}}",
            _ => type,
        };

        string source = """
            using System;
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using LlmGuard;

            """ + (Chance(0.1) ? body : "namespace Fuzz;\n\n" + body) + "\n";

        // Sometimes the declaration is cut off mid-word, as while typing.
        if (!tame && Chance(0.1))
        {
            int start = source.IndexOf('[', StringComparison.Ordinal);
            source = source.Substring(0, _random.Next(start, source.Length));
        }

        return source;
    }

    private Parameter[] PickParameters(bool generic, bool tame)
    {
        Parameter[] candidates = s_parameters.Where(p => (generic || !p.NeedsT) && (!tame || p.Tame)).ToArray();
        var picked = new List<Parameter>();
        for (int count = _random.Next(0, 5); count > 0; count--)
        {
            Parameter parameter = Pick(candidates);
            if (!picked.Contains(parameter) && !(tame && parameter.IsToken && picked.Any(p => p.IsToken)))
            {
                picked.Add(parameter);
            }
        }

        // Optional parameters go last (before params), or even a tame declaration would not compile.
        if (tame)
        {
            picked = picked.OrderBy(p => p.Text.Contains('=', StringComparison.Ordinal)).ToList();
        }

        if (Chance(0.05))
        {
            picked.Add(new Parameter("params string[] rest"));
        }

        return picked.ToArray();
    }

    private string Fallback(Parameter[] parameters, string? result, string staticModifier, bool matching, bool none)
    {
        string withToken = string.Join(", ", parameters.Select(p => p.Text));
        string withoutToken = string.Join(", ", parameters.Where(p => !p.IsToken).Select(p => p.Text));
        string chosen = Chance(0.5) ? withToken : withoutToken;
        if (Chance(0.5))
        {
            chosen += (chosen.Length == 0 ? string.Empty : ", ") + "Exception exception";
        }

        string returns = result switch
        {
            null => Pick("void", "Task", "ValueTask"),
            "" => "int",
            _ => Pick(result, $"Task<{result}>", $"ValueTask<{result}>"),
        };
        string matchingFallback = $"private {staticModifier}{returns} Fallback({chosen}) => throw new NotSupportedException();";
        return none ? string.Empty
            : matching ? matchingFallback
            : Pick(
                string.Empty,
                matchingFallback,
                matchingFallback,
                $"private {staticModifier}long Fallback({chosen}) => 0;",
                $"private {staticModifier}{returns} Fallback(int extra, {chosen}) => throw new NotSupportedException();",
                $"private static {returns} Fallback<TX>({chosen}) => throw new NotSupportedException();",
                "private int Fallback => 0;");
    }

    /// <summary>A template over some of the parameters, separated by literal text: what a user would write.</summary>
    private string TameTemplate(Parameter[] parameters)
    {
        string[] parts = parameters.Where(p => !p.IsToken && p.KeyPaths.Length > 0).Select(p => Pick(p.KeyPaths)).Where(_ => Chance(0.8)).ToArray();
        var template = new StringBuilder(Chance(0.3) ? Pick("v1/", "{{", "x") : string.Empty);
        for (int i = 0; i < parts.Length; i++)
        {
            template.Append('{').Append(parts[i]).Append('}');
            if (i < parts.Length - 1 || Chance(0.2))
            {
                template.Append(Pick(":", "/", "-", "|", " ", "{{x}}", ", "));
            }
        }

        return template.ToString();
    }

    private string RandomTemplate()
    {
        var template = new StringBuilder();
        for (int parts = _random.Next(0, 5); parts > 0; parts--)
        {
            template.Append(_random.Next(4) switch
            {
                0 => "{" + string.Join(".", Enumerable.Range(0, _random.Next(1, 3)).Select(_ => Pick(s_templateWords))) + "}",
                1 => Pick(":", "/", "-", "{{", "}}", "\\", "∅", ".", " "),
                2 => Pick("{", "}", "{}", "@", "{1}", "{a b}"),
                _ => Pick(s_templateWords),
            });
        }

        return template.ToString();
    }

    private string RandomText()
    {
        const string alphabet = "ab{}.\\∅\" \n\t:";
        return new string(Enumerable.Range(0, _random.Next(0, 8)).Select(_ => alphabet[_random.Next(alphabet.Length)]).ToArray());
    }

    private static string DefaultCoreName(string name) =>
        name.EndsWith("Async", StringComparison.Ordinal) ? name[..^"Async".Length] + "CoreAsync" : name + "Core";

    private static string Literal(string text) => SymbolDisplay.FormatLiteral(text, quote: true);

    private bool Chance(double probability) => _random.NextDouble() < probability;

    private T Pick<T>(params T[] items) => items[_random.Next(items.Length)];

    private static Parameter Tame(string text, params string[] keyPaths) => new(text, Tame: true) { KeyPaths = keyPaths };

    private sealed record Parameter(string Text, bool IsToken = false, bool IsPointer = false, bool NeedsT = false, bool Tame = false)
    {
        /// <summary>What a key template may write for this parameter: its name or a member chain of it.</summary>
        public string[] KeyPaths { get; init; } = Array.Empty<string>();
    }
}
