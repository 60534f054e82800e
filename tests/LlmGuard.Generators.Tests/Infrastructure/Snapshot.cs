using System;
using System.IO;
using System.Text;

namespace LlmGuard.Generators.Tests.Infrastructure;

/// <summary>
/// Compares generated text with a checked-in <c>Snapshots/&lt;name&gt;.verified.cs</c>. Set
/// <c>LLMGUARD_UPDATE_SNAPSHOTS=1</c> to (re)write the verified files; otherwise a mismatch fails with a line
/// diff and writes <c>&lt;name&gt;.received.cs</c> beside the verified file.
/// </summary>
internal static class Snapshot
{
    public const string UpdateVariable = "LLMGUARD_UPDATE_SNAPSHOTS";

    private const int DifferencesShown = 8;

    public static string Directory => Path.Combine(RepositoryPaths.TestProject, "Snapshots");

    /// <summary>The version the generator writes into [GeneratedCode]; snapshots hold <c>{version}</c> instead.</summary>
    public static string GeneratorVersion { get; } = typeof(GuardedGenerator).Assembly.GetName().Version!.ToString();

    /// <summary>Verifies generated source with its generator version masked, so a version bump changes no snapshot.</summary>
    public static void VerifyGenerated(string source, string name) =>
        Verify(source.Replace($"\"LlmGuard.Generators\", \"{GeneratorVersion}\"", "\"LlmGuard.Generators\", \"{version}\"", StringComparison.Ordinal), name);

    public static void Verify(string actual, string name)
    {
        string verifiedPath = Path.Combine(Directory, name + ".verified.cs");
        string receivedPath = Path.Combine(Directory, name + ".received.cs");
        actual = Normalize(actual);

        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            System.IO.Directory.CreateDirectory(Directory);
            File.WriteAllText(verifiedPath, actual, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            File.Delete(receivedPath);
            return;
        }

        if (!File.Exists(verifiedPath))
        {
            File.WriteAllText(receivedPath, actual, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            Assert.Fail(
                $"Snapshot '{name}' has no verified file '{verifiedPath}'. Review '{receivedPath}' and rename it to " +
                $"'{name}.verified.cs', or run the tests with {UpdateVariable}=1 to write every verified file.");
        }

        string expected = Normalize(File.ReadAllText(verifiedPath));
        if (expected == actual)
        {
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, actual, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        Assert.Fail(
            $"Snapshot '{name}' differs from '{verifiedPath}'; the generated text is in '{receivedPath}'. " +
            $"Run the tests with {UpdateVariable}=1 to accept it.\n" + Diff(expected, actual));
    }

    /// <summary>The first differing lines of two texts, numbered, as "-" verified and "+" received.</summary>
    public static string Diff(string expected, string actual)
    {
        string[] expectedLines = Normalize(expected).Split('\n');
        string[] actualLines = Normalize(actual).Split('\n');
        var diff = new StringBuilder();
        diff.AppendLine($"verified: {expectedLines.Length} lines, received: {actualLines.Length} lines");
        int shown = 0;
        for (int i = 0; i < Math.Max(expectedLines.Length, actualLines.Length) && shown < DifferencesShown; i++)
        {
            string? verifiedLine = i < expectedLines.Length ? expectedLines[i] : null;
            string? receivedLine = i < actualLines.Length ? actualLines[i] : null;
            if (verifiedLine == receivedLine)
            {
                continue;
            }

            diff.AppendLine($"line {i + 1}:");
            diff.AppendLine("  - " + (verifiedLine ?? "<end of file>"));
            diff.AppendLine("  + " + (receivedLine ?? "<end of file>"));
            shown++;
        }

        return diff.ToString();
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal).TrimStart('\uFEFF');
}
