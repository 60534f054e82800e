using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;

namespace LlmGuard.Tests.Profiles;

/// <summary>
/// One model behind a profile: answers with its own name at once, fails with <see cref="Failure"/>, or, when
/// <see cref="Gated"/>, holds each request until the test answers it.
/// </summary>
internal sealed class FakeModelClient(string name) : IChatClient
{
    private readonly Channel<PendingRequest> _pending = Channel.CreateUnbounded<PendingRequest>();
    private int _requests;

    public string Name { get; } = name;

    /// <summary>Gets or sets what each request fails with; <see langword="null"/> answers.</summary>
    public Func<Exception>? Failure { get; set; }

    public bool Gated { get; set; }

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Gets the options object of every request, in arrival order.</summary>
    public ConcurrentQueue<ChatOptions?> ReceivedOptions { get; } = new();

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _requests);
        ReceivedOptions.Enqueue(options);
        if (Failure is { } failure)
        {
            throw failure();
        }

        if (!Gated)
        {
            return Answer(Name);
        }

        var pending = new PendingRequest(cancellationToken);
        _pending.Writer.TryWrite(pending);
        return await pending.Response.Task.WaitAsync(cancellationToken);
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _requests);
        ReceivedOptions.Enqueue(options);
        await Task.Yield();
        if (Failure is { } failure)
        {
            throw failure();
        }

        foreach (string part in new[] { Name, ":", "streamed" })
        {
            yield return new ChatResponseUpdate(ChatRole.Assistant, part);
        }
    }

    /// <summary>Waits for the next request held by the gate.</summary>
    public Task<PendingRequest> NextRequestAsync() => _pending.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }

    public static ChatResponse Answer(string text) => new(new ChatMessage(ChatRole.Assistant, text));
}

/// <summary>A request a gated model holds until the test answers it.</summary>
internal sealed class PendingRequest(CancellationToken token)
{
    public CancellationToken Token { get; } = token;

    public TaskCompletionSource<ChatResponse> Response { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Answer(string text) => Response.TrySetResult(FakeModelClient.Answer(text));
}
