using System;
using System.IO.Compression;
using System.Linq;
using System.Xml.Linq;

namespace LlmGuard.Generators.Tests.Package;

/// <summary>What `dotnet pack` puts into LlmGuard's packages: the layout NuGet and the compiler rely on.</summary>
[Collection(RealBuildsCollection.Name)]
public sealed class PackageLayoutTests(PackedLlmGuard package)
{
    [Fact]
    public void The_package_holds_the_runtime_per_framework_the_Roslyn_components_the_build_check_and_the_readme()
    {
        Assert.Equal(
            [
                "LlmGuard.nuspec",
                "README.md",
                "analyzers/dotnet/roslyn4.8/cs/LlmGuard.CodeFixes.dll",
                "analyzers/dotnet/roslyn4.8/cs/LlmGuard.Generators.dll",
                "buildTransitive/LlmGuard.props",
                "lib/net10.0/LlmGuard.dll",
                "lib/net10.0/LlmGuard.xml",
                "lib/net8.0/LlmGuard.dll",
                "lib/net8.0/LlmGuard.xml",
            ],
            PackedFiles(package.PackagePath));
    }

    [Fact]
    public void The_manifest_names_the_license_readme_and_commit_and_depends_on_Polly_Core_System_ClientModel_System_Numerics_Tensors_System_Threading_RateLimiting_and_Microsoft_Extensions_alone()
    {
        XElement metadata = AssertIdentity(package.PackagePath, "LlmGuard");
        Assert.Equal("git", metadata.Elements().Single(e => e.Name.LocalName == "repository").Attribute("type")?.Value);

        // Roslyn and the generator's own references must never reach a user's dependency graph. System.ClientModel
        // is how OpenAI and Azure SDKs report failures, which the runtime classifies; the Microsoft.Extensions
        // abstractions are how it is hosted, configured, logged and measured, HybridCache holds cached answers, and
        // the semantic cache embeds texts through Microsoft.Extensions.AI.Abstractions and compares them with
        // System.Numerics.Tensors. System.Threading.RateLimiting holds the scenes' concurrency and rate limits.
        Assert.Equal(
            [
                "Microsoft.Extensions.AI.Abstractions",
                "Microsoft.Extensions.Caching.Hybrid",
                "Microsoft.Extensions.Configuration.Abstractions",
                "Microsoft.Extensions.Configuration.Binder",
                "Microsoft.Extensions.DependencyInjection.Abstractions",
                "Microsoft.Extensions.Diagnostics.Abstractions",
                "Microsoft.Extensions.Logging.Abstractions",
                "Microsoft.Extensions.Options",
                "Microsoft.Extensions.Options.ConfigurationExtensions",
                "Polly.Core",
                "System.ClientModel",
                "System.Numerics.Tensors",
                "System.Threading.RateLimiting",
            ],
            DependencyIds(metadata));
        Assert.Equal(["net10.0", "net8.0"], FrameworkGroups(metadata));
    }

    [Fact]
    public void The_symbol_package_holds_a_portable_pdb_per_framework()
    {
        Assert.Equal(["lib/net10.0/LlmGuard.pdb", "lib/net8.0/LlmGuard.pdb"], Pdbs(package.SymbolPackagePath));
    }

    [Fact]
    public void The_Extensions_AI_package_holds_its_assembly_and_docs_per_framework_and_the_readme()
    {
        Assert.Equal(
            [
                "LlmGuard.Extensions.AI.nuspec",
                "README.md",
                "lib/net10.0/LlmGuard.Extensions.AI.dll",
                "lib/net10.0/LlmGuard.Extensions.AI.xml",
                "lib/net8.0/LlmGuard.Extensions.AI.dll",
                "lib/net8.0/LlmGuard.Extensions.AI.xml",
            ],
            PackedFiles(package.ExtensionsAiPackagePath));
    }

    [Fact]
    public void The_Extensions_AI_manifest_depends_on_LlmGuard_of_the_same_version_and_Microsoft_Extensions_AI_alone()
    {
        XElement metadata = AssertIdentity(package.ExtensionsAiPackagePath, "LlmGuard.Extensions.AI");

        // ChatClientBuilder lives in Microsoft.Extensions.AI, which only this package brings; everything else comes
        // through LlmGuard itself.
        Assert.Equal(["LlmGuard", "Microsoft.Extensions.AI"], DependencyIds(metadata));
        // A project that only builds a pipeline gets no LLMG diagnostics until it adds LlmGuard itself.
        AssertRuntimeOfLlmGuardAlone(metadata);
        Assert.Equal(["net10.0", "net8.0"], FrameworkGroups(metadata));
    }

    [Fact]
    public void The_Extensions_AI_symbol_package_holds_a_portable_pdb_per_framework()
    {
        Assert.Equal(["lib/net10.0/LlmGuard.Extensions.AI.pdb", "lib/net8.0/LlmGuard.Extensions.AI.pdb"], Pdbs(package.ExtensionsAiSymbolPackagePath));
    }

    [Fact]
    public void The_Redis_package_holds_its_assembly_and_docs_per_framework_and_the_readme()
    {
        Assert.Equal(
            [
                "LlmGuard.Redis.nuspec",
                "README.md",
                "lib/net10.0/LlmGuard.Redis.dll",
                "lib/net10.0/LlmGuard.Redis.xml",
                "lib/net8.0/LlmGuard.Redis.dll",
                "lib/net8.0/LlmGuard.Redis.xml",
            ],
            PackedFiles(package.RedisPackagePath));
    }

    [Fact]
    public void The_Redis_manifest_depends_on_LlmGuard_of_the_same_version_the_Redis_clients_the_lock_library_and_the_logging_and_metrics_abstractions()
    {
        XElement metadata = AssertIdentity(package.RedisPackagePath, "LlmGuard.Redis");

        // Redis reaches an application only through this package: LlmGuard itself stays free of it.
        Assert.Equal(
            ["DistributedLock.Core", "DistributedLock.Redis", "LlmGuard", "Microsoft.Extensions.Caching.StackExchangeRedis",
                "Microsoft.Extensions.Diagnostics.Abstractions", "Microsoft.Extensions.Logging.Abstractions", "StackExchange.Redis"],
            DependencyIds(metadata));
        // An application references LlmGuard itself for its [Guarded] methods, as the README says.
        AssertRuntimeOfLlmGuardAlone(metadata);
        Assert.Equal(["net10.0", "net8.0"], FrameworkGroups(metadata));
    }

    [Fact]
    public void The_Redis_symbol_package_holds_a_portable_pdb_per_framework()
    {
        Assert.Equal(["lib/net10.0/LlmGuard.Redis.pdb", "lib/net8.0/LlmGuard.Redis.pdb"], Pdbs(package.RedisSymbolPackagePath));
    }

    // Everything in a package but the parts of the zip format NuGet writes for itself.
    private static string[] PackedFiles(string packagePath)
    {
        using ZipArchive archive = ZipFile.OpenRead(packagePath);
        return archive.Entries
            .Select(entry => entry.FullName)
            .Where(name => !name.StartsWith("_rels/", StringComparison.Ordinal)
                && !name.StartsWith("package/", StringComparison.Ordinal)
                && name != "[Content_Types].xml")
            .Order(StringComparer.Ordinal)
            .ToArray();
    }

    private static string[] Pdbs(string symbolPackagePath)
    {
        using ZipArchive archive = ZipFile.OpenRead(symbolPackagePath);
        return archive.Entries.Select(entry => entry.FullName).Where(name => name.EndsWith(".pdb", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToArray();
    }

    // The manifest's metadata, after checking what every LlmGuard package says of itself: its id, the version built,
    // the license, the readme and the commit it was built from.
    private XElement AssertIdentity(string packagePath, string id)
    {
        using ZipArchive archive = ZipFile.OpenRead(packagePath);
        using var reader = archive.GetEntry(id + ".nuspec")!.Open();
        XElement metadata = XDocument.Load(reader).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string Value(string name) => metadata.Elements().Single(e => e.Name.LocalName == name).Value;

        Assert.Equal(id, Value("id"));
        Assert.Equal(package.Version, Value("version"));
        Assert.Equal("MIT", Value("license"));
        Assert.Equal("README.md", Value("readme"));
        Assert.Matches("^[0-9a-f]{40}$", metadata.Elements().Single(e => e.Name.LocalName == "repository").Attribute("commit")?.Value ?? "");
        return metadata;
    }

    // An integration package's dependency on LlmGuard, of the version built: LlmGuard's runtime flows to the user; its
    // generator, analyzers and build files do not (NuGet's default for a dependency).
    private void AssertRuntimeOfLlmGuardAlone(XElement metadata) =>
        Assert.All(
            Dependencies(metadata).Where(e => e.Attribute("id")!.Value == "LlmGuard"),
            dependency =>
            {
                Assert.Equal(package.Version, dependency.Attribute("version")?.Value);
                Assert.Equal("Build,Analyzers", dependency.Attribute("exclude")?.Value);
            });

    private static XElement[] Dependencies(XElement metadata) =>
        metadata.Descendants().Where(e => e.Name.LocalName == "dependency").ToArray();

    private static string[] DependencyIds(XElement metadata) =>
        Dependencies(metadata).Select(e => e.Attribute("id")!.Value).Distinct().Order(StringComparer.Ordinal).ToArray();

    private static string[] FrameworkGroups(XElement metadata) =>
        metadata.Descendants().Where(e => e.Name.LocalName == "group").Select(e => e.Attribute("targetFramework")!.Value).Order(StringComparer.Ordinal).ToArray();
}
