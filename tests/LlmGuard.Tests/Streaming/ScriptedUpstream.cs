using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Channels;
using System.Threading.Tasks;

namespace LlmGuard.Tests.Streaming;

/// <summary>
/// An upstream the test feeds by hand: every attempt reads the same script, where a string is the next item and an
/// exception is the attempt's failure. Each attempt announces its start and records how it ended.
/// </summary>
internal sealed class ScriptedUpstream
{
    private readonly Channel<object> _script = Channel.CreateUnbounded<object>();
    private readonly Channel<CancellationToken> _starts = Channel.CreateUnbounded<CancellationToken>();
    private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _startCount;

    public int Starts => Volatile.Read(ref _startCount);

    /// <summary>Completes when an attempt saw its token cancelled.</summary>
    public Task Cancelled => _cancelled.Task;

    public void Yield(string item) => _script.Writer.TryWrite(item);

    public void Fail(Exception failure) => _script.Writer.TryWrite(failure);

    public void Complete() => _script.Writer.TryComplete();

    /// <summary>Waits for the next attempt to start and returns its token.</summary>
    public Task<CancellationToken> NextStartAsync() => _starts.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));

    public async IAsyncEnumerable<string> RunAsync(string arguments, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _startCount);
        _starts.Writer.TryWrite(cancellationToken);
        try
        {
            while (await _script.Reader.WaitToReadAsync(cancellationToken))
            {
                if (!_script.Reader.TryRead(out object? next))
                {
                    continue;
                }

                if (next is Exception failure)
                {
                    throw failure;
                }

                yield return (string)next;
            }
        }
        finally
        {
            if (cancellationToken.IsCancellationRequested)
            {
                _cancelled.TrySetResult();
            }
        }
    }
}
