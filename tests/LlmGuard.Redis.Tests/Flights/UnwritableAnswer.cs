using System;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Redis.Tests.Flights;

/// <summary>An answer whose JSON contract exists but cannot write it: a property getter throws while it is serialized.</summary>
public sealed class UnwritableAnswer(string text)
{
    public string Text { get; } = text;

    public string Summary => throw new InvalidOperationException("the summary is computed on first use and is not ready");
}

[JsonSerializable(typeof(UnwritableAnswer))]
internal sealed partial class UnwritableAnswerJsonContext : JsonSerializerContext;

/// <summary>A guarded method of the shared scene whose answers the leader cannot publish.</summary>
public partial class UnwritableAssistant(GuardRuntime runtime)
{
    private int _executions;

    public int Executions => Volatile.Read(ref _executions);

    [Guarded(Scene = SharedAssistant.Scene, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<UnwritableAnswer> AskAsync(string question, CancellationToken cancellationToken = default);

    private Task<UnwritableAnswer> AskCoreAsync(string question, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _executions);
        return Task.FromResult(new UnwritableAnswer("answer to " + question));
    }
}
