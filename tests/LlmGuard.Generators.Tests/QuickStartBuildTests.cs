using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using LlmGuard.Generators.Tests.Infrastructure;

namespace LlmGuard.Generators.Tests;

/// <summary>The analyzer in a real build of the QuickStart sample, as a user sees it.</summary>
public sealed class QuickStartBuildTests
{
    [Fact]
    public async Task Building_the_QuickStart_with_a_direct_model_call_reports_LLMG100_at_that_call()
    {
        string project = Path.Combine(RepositoryPaths.Root, "samples", "QuickStart", "QuickStart.csproj");
        string artifacts = Path.Combine(Path.GetTempPath(), "llmguard-quickstart-" + Guid.NewGuid().ToString("N"));
        var start = new ProcessStartInfo("dotnet", $"build \"{project}\" -p:ShowUnguardedCall=true -p:TreatWarningsAsErrors=false --artifacts-path \"{artifacts}\" -nodeReuse:false")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        try
        {
            using Process build = Process.Start(start)!;
            Task<string> output = build.StandardOutput.ReadToEndAsync();
            Task<string> errors = build.StandardError.ReadToEndAsync();
            await build.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
            string log = await output + await errors;

            Assert.True(build.ExitCode == 0, log);
            Assert.Contains($"Unguarded{Path.DirectorySeparatorChar}DirectModelCall.cs(10,16): warning LLMG100: 'ChatClientExtensions.GetResponseAsync' calls a model outside a guarded boundary", log, StringComparison.Ordinal);
        }
        finally
        {
            if (Directory.Exists(artifacts))
            {
                Directory.Delete(artifacts, recursive: true);
            }
        }
    }
}
