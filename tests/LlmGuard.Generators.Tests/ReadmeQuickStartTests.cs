using System;
using System.IO;
using LlmGuard.Generators.Tests.Infrastructure;

namespace LlmGuard.Generators.Tests;

/// <summary>The README's quick start is the first code a user copies: it must compile as written.</summary>
public sealed class ReadmeQuickStartTests
{
    // What the .NET SDK adds to a new project (ImplicitUsings), which is where a user pastes the snippet.
    private const string ImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    [Fact]
    public void The_README_quick_start_compiles_with_the_generator_without_errors_or_warnings()
    {
        string snippet = QuickStartSnippet(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "README.md")));

        GeneratorRun run = GeneratorHarness.Run(snippet, ImplicitUsings);

        run.AssertClean();
        Assert.Contains("ReplyCoreAsync(", run.SingleSource(), StringComparison.Ordinal);
    }

    /// <summary>The first C# block under the "Quick start" heading.</summary>
    private static string QuickStartSnippet(string readme)
    {
        const string Heading = "\n## Quick start\n";
        const string Fence = "```csharp\n";
        string text = readme.ReplaceLineEndings("\n");
        int section = text.IndexOf(Heading, StringComparison.Ordinal);
        Assert.True(section >= 0, "README.md has no '## Quick start' section.");
        int nextSection = text.IndexOf("\n## ", section + Heading.Length, StringComparison.Ordinal);
        int start = text.IndexOf(Fence, section, StringComparison.Ordinal);
        Assert.True(start >= 0 && (nextSection < 0 || start < nextSection), "The Quick start section has no ```csharp block.");
        start += Fence.Length;
        int end = text.IndexOf("\n```", start, StringComparison.Ordinal);
        Assert.True(end >= 0, "The Quick start's ```csharp block is not closed.");
        return text.Substring(start, end - start + 1);
    }
}
