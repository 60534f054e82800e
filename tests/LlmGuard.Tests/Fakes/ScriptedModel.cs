using System;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace LlmGuard.Tests.Fakes;

/// <summary>A model whose every call waits until the test completes it, so tests decide when and how calls end.</summary>
public sealed class ScriptedModel
{
    private readonly Channel<ModelCall> _calls = Channel.CreateUnbounded<ModelCall>();
    private int _callCount;

    public int Calls => Volatile.Read(ref _callCount);

    /// <summary>When set, a call keeps running after its token is cancelled, like a provider SDK that ignores it.</summary>
    public bool IgnoresCancellation { get; init; }

    public async Task<string> RespondAsync(string prompt, CancellationToken cancellationToken)
    {
        var call = new ModelCall(prompt, cancellationToken);
        Interlocked.Increment(ref _callCount);
        _calls.Writer.TryWrite(call);
        try
        {
            return IgnoresCancellation
                ? await call.Outcome.ConfigureAwait(false)
                : await call.Outcome.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            call.MarkEnded();
        }
    }

    /// <summary>
    /// Answers the next two calls, which may arrive in either order: the one whose prompt is
    /// <paramref name="prompt"/> with <paramref name="answer"/>, the other with <paramref name="otherAnswer"/>.
    /// </summary>
    public async Task AnswerTwoAsync(string prompt, string answer, string otherAnswer)
    {
        ModelCall a = await NextCallAsync();
        ModelCall b = await NextCallAsync();
        Assert.True(a.Prompt == prompt || b.Prompt == prompt, $"Neither '{a.Prompt}' nor '{b.Prompt}' is '{prompt}'.");
        (a.Prompt == prompt ? a : b).Succeed(answer);
        (a.Prompt == prompt ? b : a).Succeed(otherAnswer);
    }

    /// <summary>The next call the model receives; fails after 10 s so a broken test cannot hang.</summary>
    public Task<ModelCall> NextCallAsync() => NextCallAsync(TimeSpan.FromSeconds(10));

    public async Task<ModelCall> NextCallAsync(TimeSpan within) =>
        await _calls.Reader.ReadAsync().AsTask().WaitAsync(within).ConfigureAwait(false);
}

public sealed class ModelCall(string prompt, CancellationToken token)
{
    private readonly TaskCompletionSource<string> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string Prompt { get; } = prompt;

    /// <summary>The token the core received for this attempt.</summary>
    public CancellationToken Token { get; } = token;

    internal Task<string> Outcome => _outcome.Task;

    /// <summary>Completes when the model call has returned or thrown.</summary>
    public Task Ended => _ended.Task.WaitAsync(TimeSpan.FromSeconds(10));

    public void Succeed(string answer) => _outcome.SetResult(answer);

    public void Fail(Exception exception) => _outcome.SetException(exception);

    internal void MarkEnded() => _ended.TrySetResult();
}
