using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Redis.Tests.Flights;

[JsonSerializable(typeof(string))]
internal sealed partial class FlightJsonContext : JsonSerializerContext;

/// <summary>
/// The model every instance calls: it counts executions and holds each until the test releases it, so a test decides
/// when the leader's result is published.
/// </summary>
public sealed class HeldModel
{
    private readonly TaskCompletionSource<string> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _executions;

    public int Executions => Volatile.Read(ref _executions);

    public Task Entered => _entered.Task;

    public void Answer(string answer) => _answer.SetResult(answer);

    public async Task<string> RespondAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _executions);
        _entered.TrySetResult();
        return await _answer.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>A guarded method of a scene the tests share across instances.</summary>
public partial class SharedAssistant(GuardRuntime runtime, HeldModel model)
{
    public const string Scene = "redis_shared";

    [Guarded(Scene = Scene, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> AskAsync(string question, CancellationToken cancellationToken = default);

    // Same scene, result type and guard key as AskAsync: across instances only the method's version tells them apart.
    [Guarded(Scene = Scene, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> SummarizeAsync(string question, CancellationToken cancellationToken = default);

    private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => model.RespondAsync(cancellationToken);

    private async Task<string> SummarizeCoreAsync(string question, CancellationToken cancellationToken) =>
        "summary: " + await model.RespondAsync(cancellationToken).ConfigureAwait(false);
}
