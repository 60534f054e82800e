using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using StackExchange.Redis;

namespace LlmGuard.Redis.Tests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, started for the tests and killed afterwards; it can be stopped
/// and started again on the same port to test what happens while Redis is away.
/// </summary>
/// <remarks>Nothing is persisted (<c>--save ""</c>, <c>--appendonly no</c>): a restarted server starts empty, as a
/// failed-over cache does.</remarks>
public sealed class RedisServer : IAsyncLifetime
{
    private static readonly TimeSpan s_startBound = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan s_stopBound = TimeSpan.FromSeconds(10);

    private Process? _process;
    private readonly StringBuilder _output = new();

    /// <summary>Gets the loopback port the server listens on; the same across restarts.</summary>
    public int Port { get; private set; }

    /// <summary>Gets a StackExchange.Redis configuration string for this server.</summary>
    /// <remarks><c>abortConnect=false</c>: a connection made while the server is down keeps trying instead of throwing,
    /// as a production configuration does.</remarks>
    public string Configuration => $"127.0.0.1:{Port},abortConnect=false,connectTimeout=2000,syncTimeout=2000,asyncTimeout=2000";

    /// <summary>Opens a new, separate connection: what another instance of the application would have.</summary>
    /// <summary>
    /// Gets <see cref="Configuration"/> with the connection's own command timeouts at 20 s: far beyond any bound an
    /// outage test checks, so a call that waited on them instead of its bound cannot pass for bounded, even on a loaded
    /// machine.
    /// </summary>
    public string ConfigurationWithLongTimeouts => Configuration + ",syncTimeout=20000,asyncTimeout=20000";

    public Task<ConnectionMultiplexer> ConnectAsync() => ConnectionMultiplexer.ConnectAsync(Configuration);

    public async Task InitializeAsync()
    {
        // A port found free can be taken by someone else before redis-server binds it: try a few.
        for (int attempt = 1; ; attempt++)
        {
            Port = FreeLoopbackPort();
            try
            {
                await StartAsync();
                return;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                await StopAsync();
            }
        }
    }

    /// <summary>Starts the server on <see cref="Port"/> and returns once it answers PING.</summary>
    public async Task StartAsync()
    {
        if (_process is not null)
        {
            throw new InvalidOperationException("The server is already running.");
        }

        var start = new ProcessStartInfo("redis-server")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no" })
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
            throw new InvalidOperationException("redis-server is not installed (apt-get install redis-server; .ci/run installs it).", exception);
        }

        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        Stopwatch waited = Stopwatch.StartNew();
        while (!await AnswersPingAsync())
        {
            if (process.HasExited || waited.Elapsed > s_startBound)
            {
                throw new InvalidOperationException($"redis-server on port {Port} did not answer PING within {s_startBound}:\n{Output}");
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Kills the server, as a crash or a lost host would: no shutdown, no goodbye to clients.</summary>
    public async Task StopAsync()
    {
        Process? process = Interlocked.Exchange(ref _process, null);
        if (process is null)
        {
            return;
        }

        using (process)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            using var bound = new CancellationTokenSource(s_stopBound);
            await process.WaitForExitAsync(bound.Token);
        }
    }

    public Task DisposeAsync() => StopAsync();

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

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    private async Task<bool> AnswersPingAsync()
    {
        try
        {
            using var client = new TcpClient();
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await client.ConnectAsync(IPAddress.Loopback, Port, bound.Token);
            NetworkStream stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), bound.Token);
            byte[] reply = new byte[7];
            int read = 0;
            while (read < reply.Length)
            {
                int got = await stream.ReadAsync(reply.AsMemory(read), bound.Token);
                if (got == 0)
                {
                    return false;
                }

                read += got;
            }

            return reply.AsSpan().SequenceEqual("+PONG\r\n"u8);
        }
        catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException)
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
