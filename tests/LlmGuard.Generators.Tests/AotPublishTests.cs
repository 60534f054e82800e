using System;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using LlmGuard.Generators.Tests.Infrastructure;

namespace LlmGuard.Generators.Tests;

/// <summary>
/// The AotConsole sample published the two ways a guarded program ships without a JIT-friendly runtime around it:
/// native AOT (net9.0) and trimmed self-contained (net10.0). Each publish must be free of trim and AOT warnings
/// (IL2xxx, IL3xxx) with warnings as errors, and the published program must run every check of the sample.
/// The one exception is inside Microsoft.Extensions.Caching.Hybrid: <c>AddHybridCache()</c> registers its reflection-based
/// JSON serializer factory in every application, and ILC analyses it even when, as here, LlmGuard's serializer
/// over a source-generated context serializes every cached answer; the sample lets exactly those warnings through.
/// </summary>
[Collection(Package.RealBuildsCollection.Name)]
public sealed class AotPublishTests
{
    private static readonly string[] ExpectedOutput =
    [
        "singleflight: 5 callers, 1 execution; a call after it completed, 1 new execution",
        "merge window: 3 calls, 1 execution, saw \"I want to complain / about yesterday's order / order no. 123\", latest message id 3",
        "timeout + retry: 2 attempts, 1 timed out, answer \"summary of T-7\"",
        "fallback: 3 attempts failed, fallback answered \"T-8 handed to a human (HttpRequestException 503)\"",
        "interface: 3 callers on 2 ITicketRouter implementations, 1 execution, routed to billing",
        "hosted: MaxRetries 0 from configuration, 1 attempt, fallback answered, 1 call measured",
        "cache: 1 execution, repeat from memory, other instance from the distributed cache (\"how to: reset my password\"), other tenant 1 execution of its own",
        "in flight after the run: 0",
        "all checks passed",
    ];

    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(8);

    private static readonly Regex TrimOrAotWarning = new(@"\bIL[23]\d{3}\b|warning IL", RegexOptions.CultureInvariant);

    private const string HybridCacheDefaultSerializer = "Microsoft.Extensions.Caching.Hybrid.Internal.DefaultJsonSerializerFactory";

    [Fact]
    public async Task The_sample_publishes_as_native_AOT_without_trim_or_AOT_warnings_and_the_native_binary_passes_its_checks()
    {
        if (OperatingSystem.IsLinux())
        {
            Assert.True(
                IsOnPath("clang"),
                "clang is not installed: native AOT on Linux links with clang. Install it (Debian: apt-get install clang zlib1g-dev); .ci/run does this on CI.");
        }

        await PublishAndRunAsync("net9.0", "");
    }

    [Fact]
    public async Task The_sample_publishes_trimmed_and_self_contained_on_net10_without_trim_warnings_and_the_trimmed_app_passes_its_checks()
    {
        await PublishAndRunAsync("net10.0", "-p:SelfContained=true");
    }

    private static async Task PublishAndRunAsync(string framework, string extraArguments)
    {
        string project = Path.Combine(RepositoryPaths.Root, "samples", "AotConsole", "AotConsole.csproj");
        string artifacts = DotnetCli.CreateTemporaryDirectory("aot");
        string rid = CurrentRuntimeIdentifier();
        try
        {
            // TrimmerSingleWarn=false: a warning inside a referenced assembly (the runtime, Polly) is reported at its
            // own location instead of as one IL2104 per assembly.
            (int exitCode, string log) = await DotnetCli.RunAsync(
                $"publish \"{project}\" -c Release -r {rid} -f {framework} {extraArguments} -p:TreatWarningsAsErrors=true -p:TrimmerSingleWarn=false --artifacts-path \"{artifacts}\"",
                RepositoryPaths.Root,
                PublishTimeout);

            Assert.True(exitCode == 0, $"dotnet publish -f {framework} failed:\n{log}");
            string[] warnings = log.Split('\n').Where(line => TrimOrAotWarning.IsMatch(line)).ToArray();
            string[] ours = warnings.Where(line => !line.Contains(HybridCacheDefaultSerializer, StringComparison.Ordinal)).ToArray();
            Assert.True(ours.Length == 0, "Trim/AOT warnings:\n" + string.Join("\n", ours));

            // When HybridCache stops reporting these, the sample's WarningsNotAsErrors goes, and so does this check.
            Assert.True(warnings.Length > 0, $"No warning from {HybridCacheDefaultSerializer} any more: remove WarningsNotAsErrors from samples/AotConsole.");

            string publishDirectory = Path.Combine(artifacts, "publish", "AotConsole", $"release_{framework}_{rid}");
            string program = Path.Combine(publishDirectory, OperatingSystem.IsWindows() ? "AotConsole.exe" : "AotConsole");
            Assert.True(
                File.Exists(program),
                $"No '{program}' after publishing. Published files:\n" + (Directory.Exists(Path.Combine(artifacts, "publish"))
                    ? string.Join("\n", Directory.EnumerateFiles(Path.Combine(artifacts, "publish"), "*", SearchOption.AllDirectories))
                    : "(none)"));

            (int programExit, string output) = await DotnetCli.RunProgramAsync(program, "", publishDirectory, TimeSpan.FromMinutes(1));

            Assert.True(programExit == 0, $"{program} exited with {programExit}:\n{output}");
            Assert.Equal(ExpectedOutput, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.TrimEnd('\r')).ToArray());
        }
        finally
        {
            DotnetCli.DeleteDirectory(artifacts);
        }
    }

    private static string CurrentRuntimeIdentifier()
    {
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        return os + "-" + RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();
    }

    private static bool IsOnPath(string command) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Any(directory => File.Exists(Path.Combine(directory, command)));
}
