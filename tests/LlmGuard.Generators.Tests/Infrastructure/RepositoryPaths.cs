using System.IO;
using System.Linq;
using System.Reflection;

namespace LlmGuard.Generators.Tests.Infrastructure;

/// <summary>
/// Finds this test project and the repository on disk. The project directory is written into the assembly at
/// build time: deterministic CI builds map source paths to '/_/', so [CallerFilePath] cannot be used.
/// </summary>
internal static class RepositoryPaths
{
    public static string TestProject { get; } = typeof(RepositoryPaths).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(attribute => attribute.Key == "TestProjectDirectory")
        .Value!;

    public static string Root => FindUp("LlmGuard.Generators.sln");

    private static string FindUp(string marker)
    {
        for (DirectoryInfo? directory = new(TestProject); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, marker)))
            {
                return directory.FullName;
            }
        }

        throw new FileNotFoundException($"No directory above '{TestProject}' contains '{marker}'.");
    }
}
