using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Distribution;

namespace LlmGuard.Tests.Distribution;

/// <summary>
/// An in-process <see cref="IDistributedFlights"/>: it records each execution offered to it and, by <see cref="Mode"/>,
/// runs it here, answers as another instance would, or fails as an unreachable store does.
/// </summary>
public sealed class RecordingFlights : IDistributedFlights
{
    public enum Behaviour
    {
        RunHere,
        AnswerFromElsewhere,
        FailBeforeRunning,
        FailAfterRunning,
    }

    public Behaviour Mode { get; init; }

    /// <summary>The answer another instance produced, for <see cref="Behaviour.AnswerFromElsewhere"/>.</summary>
    public string RemoteAnswer { get; init; } = "from another instance";

    public ConcurrentQueue<(string Scene, string Key)> Offered { get; } = new();

    public async ValueTask<TResult> RunAsync<TResult>(string scene, string key, Func<CancellationToken, ValueTask<TResult>> execute, CancellationToken cancellationToken)
    {
        Offered.Enqueue((scene, key));
        switch (Mode)
        {
            case Behaviour.AnswerFromElsewhere:
                return (TResult)(object)RemoteAnswer;
            case Behaviour.FailBeforeRunning:
                throw new InvalidOperationException("The shared store is unreachable.");
            case Behaviour.FailAfterRunning:
                await execute(cancellationToken).ConfigureAwait(false);
                throw new InvalidOperationException("Publishing the result failed.");
            default:
                return await execute(cancellationToken).ConfigureAwait(false);
        }
    }
}
