using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using LlmGuard.Redis.Instance;

namespace LlmGuard.Redis.Tests.Processes;

/// <summary>What a group of an instance's callers of one key received.</summary>
public sealed record CallerOutcome(string Kind, string Key, int Callers, string Text);

/// <summary>
/// The instance program (tests/LlmGuard.Redis.Instance) running as its own process, started with <c>dotnet</c>,
/// driven over stdin and read line by line from stdout. Every wait is bounded and disposing kills it.
/// </summary>
public sealed class InstanceProcess : IAsyncDisposable
{
    // A cold `dotnet` start plus a Redis connection, on a machine shared with other builds.
    private static readonly TimeSpan s_startBound = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_exitBound = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _output = new();

    private InstanceProcess(string name, Process process)
    {
        Name = name;
        _process = process;
    }

    public string Name { get; }

    /// <summary>Starts an instance that will issue <paramref name="callersPerKey"/> calls per key on "go", and returns once it is ready.</summary>
    public static async Task<InstanceProcess> StartAsync(InstanceSettings settings, IReadOnlyList<string> keys, int callersPerKey)
    {
        string program = typeof(InstanceProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == "InstanceProgram").Value!;
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(program);
        foreach ((string option, string value) in new[]
        {
            ("--redis", settings.Redis),
            ("--prefix", settings.KeyPrefix),
            ("--name", settings.Name),
            ("--keys", string.Join(',', keys)),
            ("--callers-per-key", callersPerKey.ToString(CultureInfo.InvariantCulture)),
            ("--lease-ttl-ms", Milliseconds(settings.LeaseTtl)),
            ("--follower-wait-ms", Milliseconds(settings.FollowerWait)),
            ("--redis-timeout-ms", Milliseconds(settings.RedisTimeout)),
            ("--hold-bound-ms", Milliseconds(settings.HoldBound)),
        })
        {
            start.ArgumentList.Add(option);
            start.ArgumentList.Add(value);
        }

        var instance = new InstanceProcess(settings.Name, Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start."));
        instance._process.OutputDataReceived += (_, e) => instance.Receive(e.Data, isOutput: true);
        instance._process.ErrorDataReceived += (_, e) => instance.Receive(e.Data, isOutput: false);
        instance._process.BeginOutputReadLine();
        instance._process.BeginErrorReadLine();
        try
        {
            await instance.WaitForLineAsync("ready", s_startBound);
        }
        catch
        {
            await instance.DisposeAsync();
            throw;
        }

        return instance;
    }

    /// <summary>Tells the instance to issue its calls.</summary>
    public async Task GoAsync()
    {
        await _process.StandardInput.WriteLineAsync("go");
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Reads lines until <paramref name="expected"/>, at most <paramref name="bound"/>.</summary>
    public async Task WaitForLineAsync(string expected, TimeSpan bound) => await ReadUntilAsync(expected, bound, _ => { });

    /// <summary>Reads what each group of callers received, up to the instance's "done".</summary>
    public async Task<IReadOnlyList<CallerOutcome>> OutcomesAsync(TimeSpan bound)
    {
        var outcomes = new List<CallerOutcome>();
        await ReadUntilAsync("done", bound, line =>
        {
            if (line.Split('\t') is [string kind, string key, string callers, string text])
            {
                outcomes.Add(new CallerOutcome(kind, key, int.Parse(callers, CultureInfo.InvariantCulture), text));
            }
        });
        return outcomes;
    }

    /// <summary>Kills the process at once (SIGKILL on Unix): no finally block, no lease release, no goodbye to Redis.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        using var bound = new CancellationTokenSource(s_exitBound);
        await _process.WaitForExitAsync(bound.Token);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await KillAsync();
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private async Task ReadUntilAsync(string expected, TimeSpan bound, Action<string> onLine)
    {
        using var timeout = new CancellationTokenSource(bound);
        try
        {
            while (true)
            {
                string line = await _lines.Reader.ReadAsync(timeout.Token);
                if (line == expected)
                {
                    return;
                }

                onLine(line);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or ChannelClosedException)
        {
            throw new TimeoutException($"Instance {Name} did not print '{expected}' within {bound}; its output:\n{Output}", exception);
        }
    }

    private string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    private void Receive(string? line, bool isOutput)
    {
        if (line is null)
        {
            if (isOutput)
            {
                _lines.Writer.TryComplete();
            }

            return;
        }

        lock (_output)
        {
            _output.AppendLine(isOutput ? line : "stderr: " + line);
        }

        if (isOutput)
        {
            _lines.Writer.TryWrite(line);
        }
    }

    private static string Milliseconds(TimeSpan value) => ((long)value.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
}
