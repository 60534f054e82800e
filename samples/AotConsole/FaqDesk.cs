using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard;

namespace AotConsole;

/// <summary>A cached answer, serialized for the distributed cache by the source-generated <see cref="FaqJsonContext"/>.</summary>
public sealed record FaqAnswer(string Text, string Tenant);

/// <summary>The result types of the cached methods: what the cache may serialize, known ahead of time.</summary>
[JsonSerializable(typeof(FaqAnswer))]
internal sealed partial class FaqJsonContext : JsonSerializerContext;

/// <summary>
/// A cached method: a successful answer is kept for five minutes per tenant and question, so a repeat costs no model
/// call on this instance or, through the distributed cache, on another.
/// </summary>
public sealed partial class FaqDesk(GuardRuntime runtime)
{
    private int _executions;

    public GuardRuntime Runtime => runtime;

    public int Executions => Volatile.Read(ref _executions);

    [Guarded(Scene = "aot_faq", Key = "{$tenant}:{question}", CacheSeconds = 300, TimeoutMs = 1000, MaxRetries = 0)]
    public partial Task<FaqAnswer> AnswerAsync(string question, CancellationToken cancellationToken = default);

    private Task<FaqAnswer> AnswerCoreAsync(string question, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _executions);
        return Task.FromResult(new FaqAnswer($"how to: {question}", LlmCallContext.Current?.Tenant ?? "none"));
    }
}
