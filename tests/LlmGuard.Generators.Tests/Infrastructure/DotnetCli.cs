using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;

namespace LlmGuard.Generators.Tests.Infrastructure;

/// <summary>Runs a real process (the dotnet CLI, or a program it built) the way a user would, and captures what it printed.</summary>
internal static class DotnetCli
{
    public static Task<ProcessResult> RunAsync(string arguments, string workingDirectory, TimeSpan timeout) =>
        RunProgramAsync("dotnet", arguments, workingDirectory, timeout);

    public static async Task<ProcessResult> RunProgramAsync(string program, string arguments, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };

        // A build server outliving the test would keep the temporary directories busy.
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start '{program}'.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{program} {arguments}' did not finish within {timeout}.");
        }

        return new ProcessResult(process.ExitCode, await output + await errors);
    }

    /// <summary>A new empty directory under the system's temporary folder.</summary>
    public static string CreateTemporaryDirectory(string purpose)
    {
        string path = Path.Combine(Path.GetTempPath(), $"llmguard-{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(path);
        return path;
    }

    public static void DeleteDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }
}

/// <summary>How a process ended and everything it wrote to standard output and error.</summary>
internal sealed record ProcessResult(int ExitCode, string Output);
