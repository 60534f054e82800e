using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using StackExchange.Redis;

namespace LlmGuard.Benchmarks.Redis;

/// <summary>A <c>redis-server</c> of the benchmark's own, on a free loopback port, killed when disposed.</summary>
internal sealed class RedisServerProcess : IDisposable
{
    private static readonly TimeSpan s_startBound = TimeSpan.FromSeconds(15);

    private readonly Process _process;

    private RedisServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The configuration an instance connects with; <c>abortConnect=false</c> as in production.</summary>
    public string Configuration => $"127.0.0.1:{Port},abortConnect=false";

    /// <summary>Why the Redis benchmarks cannot run here, or <see langword="null"/> when <c>redis-server</c> is on the PATH.</summary>
    public static string? Missing() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Any(directory => File.Exists(Path.Combine(directory, "redis-server")))
            ? null
            : "redis-server is not on the PATH (Debian: apt-get install redis-server); the Redis benchmarks are skipped.";

    public static RedisServerProcess Start()
    {
        int port = FreeLoopbackPort();
        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        }
        catch (System.ComponentModel.Win32Exception exception)
        {
            throw new InvalidOperationException(Missing() ?? "redis-server did not start.", exception);
        }

        // Drained so a chatty server never blocks on a full pipe.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServerProcess(process, port);
        Stopwatch waited = Stopwatch.StartNew();
        while (!server.AnswersPing())
        {
            if (process.HasExited || waited.Elapsed > s_startBound)
            {
                server.Dispose();
                throw new InvalidOperationException($"redis-server on port {port} did not answer within {s_startBound}.");
            }

            Thread.Sleep(20);
        }

        return server;
    }

    public void Dispose()
    {
        using (_process)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
    }

    private bool AnswersPing()
    {
        try
        {
            using ConnectionMultiplexer connection = ConnectionMultiplexer.Connect($"127.0.0.1:{Port},connectTimeout=1000");
            connection.GetDatabase().Ping();
            return true;
        }
        catch (RedisException)
        {
            return false;
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
