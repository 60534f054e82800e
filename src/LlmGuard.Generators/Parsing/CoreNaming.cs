using System;

namespace LlmGuard.Generators.Parsing;

/// <summary>
/// The naming rule for a guarded method's core, shared by the generator, the analyzer and the code fix:
/// <c>Core</c> goes before a trailing <c>Async</c> (<c>AskAsync</c> → <c>AskCoreAsync</c>, <c>Summarize</c> → <c>SummarizeCore</c>).
/// </summary>
internal static class CoreNaming
{
    public static string CoreName(string guardedName) =>
        guardedName.EndsWith("Async", StringComparison.Ordinal)
            ? guardedName.Substring(0, guardedName.Length - "Async".Length) + "CoreAsync"
            : guardedName + "Core";
}
