using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Infrastructure;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Guarded;

/// <summary>
/// Degradation in levels: a large model, then a smaller model (itself guarded), then a static reply. Two primaries
/// share the smaller model, and a twin pair has one scene and key on both levels.
/// </summary>
public partial class TieredAssistant(GuardRuntime runtime, ScriptedModel large, ScriptedModel small)
{
    public int StaticReplies;

    /// <summary>The execution the smaller model's latest call ran inside, as its core saw it.</summary>
    internal IExecutingFlight? SmallFlight;

    [Guarded(Scene = "tier_large", Key = "{question}", TimeoutMs = 800, MaxRetries = 0, Fallback = nameof(AskSmallAsync))]
    public partial Task<Reply> AskAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = "tier_large_other", Key = "{question}", TimeoutMs = 0, MaxRetries = 0, Fallback = nameof(AskSmallAsync))]
    public partial Task<Reply> AskOtherAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = "tier_small", Key = "{question}", TimeoutMs = 0, MaxRetries = 0, Fallback = nameof(Busy))]
    public partial Task<Reply> AskSmallAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = "tier_twin", Key = "{question}", TimeoutMs = 0, MaxRetries = 0, Fallback = nameof(AskTwinSmallAsync))]
    public partial Task<Reply> AskTwinAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = "tier_twin", Key = "{question}", TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<Reply> AskTwinSmallAsync(string question, CancellationToken cancellationToken = default);

    private async Task<Reply> AskCoreAsync(string question, CancellationToken cancellationToken) =>
        new(await large.RespondAsync(question, cancellationToken));

    private async Task<Reply> AskOtherCoreAsync(string question, CancellationToken cancellationToken) =>
        new(await large.RespondAsync(question, cancellationToken));

    private async Task<Reply> AskSmallCoreAsync(string question, CancellationToken cancellationToken)
    {
        SmallFlight = ExecutingFlights.Innermost;
        return new(await small.RespondAsync(question, cancellationToken));
    }

    private async Task<Reply> AskTwinCoreAsync(string question, CancellationToken cancellationToken) =>
        new(await large.RespondAsync(question, cancellationToken));

    private async Task<Reply> AskTwinSmallCoreAsync(string question, CancellationToken cancellationToken) =>
        new(await small.RespondAsync(question, cancellationToken));

    private Reply Busy(string question)
    {
        Interlocked.Increment(ref StaticReplies);
        return new Reply("All our assistants are busy; an agent will answer " + question + ".");
    }
}
