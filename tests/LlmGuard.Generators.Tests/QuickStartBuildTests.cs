using System;
using System.IO;
using System.Threading.Tasks;
using LlmGuard.Generators.Tests.Infrastructure;

namespace LlmGuard.Generators.Tests;

/// <summary>The analyzer in a real build of the QuickStart sample, as a user sees it.</summary>
[Collection(Package.RealBuildsCollection.Name)]
public sealed class QuickStartBuildTests
{
    [Fact]
    public async Task Building_the_QuickStart_with_a_direct_model_call_reports_LLMG100_at_that_call()
    {
        string project = Path.Combine(RepositoryPaths.Root, "samples", "QuickStart", "QuickStart.csproj");
        string artifacts = DotnetCli.CreateTemporaryDirectory("quickstart");
        try
        {
            ProcessResult build = await DotnetCli.RunAsync(
                $"build \"{project}\" -p:ShowUnguardedCall=true -p:TreatWarningsAsErrors=false --artifacts-path \"{artifacts}\"",
                RepositoryPaths.Root,
                TimeSpan.FromMinutes(5));

            Assert.True(build.ExitCode == 0, build.Output);
            Assert.Contains($"Unguarded{Path.DirectorySeparatorChar}DirectModelCall.cs(10,16): warning LLMG100: 'ChatClientExtensions.GetResponseAsync' calls a model outside a guarded boundary", build.Output, StringComparison.Ordinal);
        }
        finally
        {
            DotnetCli.DeleteDirectory(artifacts);
        }
    }
}
