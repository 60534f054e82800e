using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LlmGuard.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace LlmGuard.Generators.Tests.Robustness;

/// <summary>
/// The repository's own C# cut off after every line, as a file looks while it is being typed: the generator must
/// never throw, which the compiler would report as CS8785 and drop every generated file.
/// </summary>
public sealed class SourcePrefixTests
{
    // Above this many lines a file is cut after every second line (or sparser), to keep the suite fast.
    private const int LinesCutOneByOne = 600;

    // Above this many cuts inside [Guarded] declarations, every second one (or sparser) is taken, for the same reason.
    private const int CharacterCutsOneByOne = 400;

    private static readonly string[] s_roots = { "samples", Path.Combine("tests", "LlmGuard.Tests") };

    public static TheoryData<string> Files() => new(RepositoryFiles());

    [Fact]
    public void Files_with_guarded_declarations_are_among_the_files()
    {
        Assert.Contains(RepositoryFiles(), path => File.ReadAllText(Path.Combine(RepositoryPaths.Root, path)).Contains("[Guarded", StringComparison.Ordinal));
    }

    private static List<string> RepositoryFiles()
    {
        var files = new List<string>();
        foreach (string root in s_roots)
        {
            string directory = Path.Combine(RepositoryPaths.Root, root);
            IEnumerable<string> sources = Directory.EnumerateFiles(directory, "*.cs", SearchOption.AllDirectories)
                .Select(path => Path.GetRelativePath(RepositoryPaths.Root, path))
                .Where(path => !path.Split(Path.DirectorySeparatorChar).Any(part => part is "obj" or "bin"))
                .OrderBy(path => path, StringComparer.Ordinal);
            foreach (string source in sources)
            {
                files.Add(source);
            }
        }

        return files;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Generator_never_throws_on_any_prefix_of_a_repository_file(string relativePath)
    {
        string text = File.ReadAllText(Path.Combine(RepositoryPaths.Root, relativePath)).Replace("\r\n", "\n", StringComparison.Ordinal);
        string[] lines = text.Split('\n');
        int step = lines.Length <= LinesCutOneByOne ? 1 : Math.Max(2, (lines.Length + LinesCutOneByOne - 1) / LinesCutOneByOne);

        var cuts = new SortedSet<int>();
        var characterCuts = new SortedSet<int>();
        int offset = 0;
        for (int line = 0; line < lines.Length; line++)
        {
            if (line % step == 0)
            {
                cuts.Add(offset);
            }

            // Where an attribute is being typed, cut after every character of it and of the declaration below.
            if (lines[line].Contains("[Guarded", StringComparison.Ordinal))
            {
                int end = Math.Min(text.Length, offset + lines.Skip(line).Take(2).Sum(l => l.Length + 1));
                for (int character = offset; character <= end; character++)
                {
                    characterCuts.Add(character);
                }
            }

            offset += lines[line].Length + 1;
        }

        int characterStep = (characterCuts.Count + CharacterCutsOneByOne - 1) / CharacterCutsOneByOne;
        cuts.UnionWith(characterCuts.Where((_, index) => index % Math.Max(1, characterStep) == 0));
        cuts.Add(text.Length);
        foreach (int cut in cuts)
        {
            string prefix = text.Substring(0, Math.Min(cut, text.Length));
            GeneratorRunResult result = GeneratorHarness.RunGeneratorOnly(GeneratorHarness.Compile(prefix));
            Diagnostic? crash = result.Diagnostics.FirstOrDefault(d => d.Id is "CS8785" or "AD0001");
            Assert.True(
                result.Exception is null && crash is null,
                $"{relativePath} cut after {cut} characters made the generator throw: {result.Exception?.ToString() ?? crash?.ToString()}\n---- prefix\n{prefix}");
        }
    }
}
