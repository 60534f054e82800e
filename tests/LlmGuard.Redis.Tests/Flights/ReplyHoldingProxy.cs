using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Redis.Tests.Flights;

/// <summary>
/// A loopback TCP relay between one instance and Redis that can hold Redis's replies: a command the instance sent is
/// executed by Redis at once, but the instance learns its answer only when the test releases it. That places a test's own
/// writes exactly between an instance's read and its next step.
/// </summary>
public sealed class ReplyHoldingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _redisPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _pumps = [];
    private readonly Task _accepting;
    private TaskCompletionSource _gate = Open();

    public ReplyHoldingProxy(int redisPort)
    {
        _redisPort = redisPort;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Gets a StackExchange.Redis configuration string that connects through the relay.</summary>
    public string Configuration => $"127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port},abortConnect=false,connectTimeout=2000,syncTimeout=2000,asyncTimeout=2000";

    /// <summary>From now on, replies wait in the relay.</summary>
    public void HoldReplies() => Volatile.Write(ref _gate, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Delivers the held replies and every later one.</summary>
    public void ReleaseReplies() => Volatile.Read(ref _gate).TrySetResult();

    public async ValueTask DisposeAsync()
    {
        ReleaseReplies();
        _stop.Cancel();
        _listener.Stop();
        try
        {
            await Task.WhenAll([_accepting, .. _pumps]).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException or System.IO.IOException)
        {
        }

        _stop.Dispose();
    }

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var redis = new TcpClient();
            await redis.ConnectAsync(IPAddress.Loopback, _redisPort, _stop.Token);
            lock (_pumps)
            {
                _pumps.Add(PumpAsync(client.GetStream(), redis.GetStream(), hold: false, client, redis));
                _pumps.Add(PumpAsync(redis.GetStream(), client.GetStream(), hold: true, client, redis));
            }
        }
    }

    private async Task PumpAsync(NetworkStream from, NetworkStream to, bool hold, TcpClient client, TcpClient redis)
    {
        byte[] buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
            {
                if (hold)
                {
                    await Volatile.Read(ref _gate).Task.WaitAsync(_stop.Token);
                }

                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or System.IO.IOException or ObjectDisposedException or SocketException)
        {
        }
        finally
        {
            client.Dispose();
            redis.Dispose();
        }
    }
}
