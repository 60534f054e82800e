using System.IO;
using System.Runtime.CompilerServices;

namespace LlmGuard.Generators.Tests.Infrastructure;

/// <summary>Finds the repository and this test project on disk from the location of this source file.</summary>
internal static class RepositoryPaths
{
    public static string Root => FindUp("LlmGuard.Generators.sln");

    public static string TestProject => FindUp("LlmGuard.Generators.Tests.csproj");

    private static string FindUp(string marker, [CallerFilePath] string thisFile = "")
    {
        for (DirectoryInfo? directory = new FileInfo(thisFile).Directory; directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, marker)))
            {
                return directory.FullName;
            }
        }

        throw new FileNotFoundException($"No directory above '{thisFile}' contains '{marker}'.");
    }
}
