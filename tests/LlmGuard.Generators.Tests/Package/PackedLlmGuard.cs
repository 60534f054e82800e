using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Generators.Tests.Infrastructure;

namespace LlmGuard.Generators.Tests.Package;

/// <summary>The LlmGuard, LlmGuard.Extensions.AI and LlmGuard.Redis packages, packed once from the repository into a temporary folder feed.</summary>
public sealed class PackedLlmGuard : IAsyncLifetime
{
    private readonly string _root = DotnetCli.CreateTemporaryDirectory("package");

    /// <summary>A folder that holds only the packed packages: the feed a fresh project restores LlmGuard from.</summary>
    public string Feed => Path.Combine(_root, "feed");

    /// <summary>
    /// The packages folder fresh projects restore into: their own, so a cached LlmGuard of the same version can never
    /// stand in for the one just packed, and shared between them, so the other packages download once.
    /// </summary>
    public string PackagesFolder => Path.Combine(_root, "packages");

    public string PackagePath { get; private set; } = "";

    public string SymbolPackagePath { get; private set; } = "";

    /// <summary>The version the repository stamps on the package, read back from its file name.</summary>
    public string Version { get; private set; } = "";

    /// <summary>The LlmGuard.Extensions.AI package, packed beside LlmGuard into the same feed.</summary>
    public string ExtensionsAiPackagePath { get; private set; } = "";

    public string ExtensionsAiSymbolPackagePath { get; private set; } = "";

    /// <summary>The LlmGuard.Redis package, packed beside LlmGuard into the same feed.</summary>
    public string RedisPackagePath { get; private set; } = "";

    public string RedisSymbolPackagePath { get; private set; } = "";

    public async Task InitializeAsync()
    {
        foreach (string project in new[] { "LlmGuard", "LlmGuard.Extensions.AI", "LlmGuard.Redis" })
        {
            string path = Path.Combine(RepositoryPaths.Root, "src", project, project + ".csproj");
            ProcessResult pack = await DotnetCli.RunAsync(
                $"pack \"{path}\" -c Release -o \"{Feed}\" --artifacts-path \"{Path.Combine(_root, "artifacts")}\"",
                RepositoryPaths.Root,
                TimeSpan.FromMinutes(5));
            Assert.True(pack.ExitCode == 0, pack.Output);
        }

        // "LlmGuard.0.1.0.nupkg" and "LlmGuard.Extensions.AI.0.1.0.nupkg": the version starts with a digit, a package id part never does here.
        PackagePath = Single("LlmGuard.", ".nupkg");
        SymbolPackagePath = Single("LlmGuard.", ".snupkg");
        ExtensionsAiPackagePath = Single("LlmGuard.Extensions.AI.", ".nupkg");
        ExtensionsAiSymbolPackagePath = Single("LlmGuard.Extensions.AI.", ".snupkg");
        RedisPackagePath = Single("LlmGuard.Redis.", ".nupkg");
        RedisSymbolPackagePath = Single("LlmGuard.Redis.", ".snupkg");
        Version = Path.GetFileNameWithoutExtension(PackagePath)["LlmGuard.".Length..];
    }

    private string Single(string prefix, string extension) =>
        Directory.GetFiles(Feed, prefix + "*" + extension)
            .Single(path => Path.GetFileName(path) is { } name && name.EndsWith(extension, StringComparison.Ordinal) && char.IsAsciiDigit(name[prefix.Length]));

    public Task DisposeAsync()
    {
        DotnetCli.DeleteDirectory(_root);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Tests that run real builds, packs and publishes. They run one at a time, after the other tests: on a 2-core machine
/// several builds at once would only compete for the same cores and stretch each one towards its timeout.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealBuildsCollection : ICollectionFixture<PackedLlmGuard>
{
    public const string Name = "Real builds";
}
