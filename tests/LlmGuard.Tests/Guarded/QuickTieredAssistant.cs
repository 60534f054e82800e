using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Tests.Guarded;

/// <summary>
/// A chain whose models answer on another thread at once: both primaries always fail, the smaller model answers with
/// the question it was asked, so the levels' joins, leaves and answers race for real.
/// </summary>
public partial class QuickTieredAssistant(GuardRuntime runtime)
{
    [Guarded(Scene = "quick_large", Key = "{question}", TimeoutMs = 0, MaxRetries = 0, Fallback = nameof(AskSmallAsync))]
    public partial Task<Reply> AskAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = "quick_large_other", Key = "{question}", TimeoutMs = 0, MaxRetries = 0, Fallback = nameof(AskSmallAsync))]
    public partial Task<Reply> AskOtherAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = "quick_small", Key = "{question}", TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<Reply> AskSmallAsync(string question, CancellationToken cancellationToken = default);

    private async Task<Reply> AskCoreAsync(string question, CancellationToken cancellationToken)
    {
        await Task.Yield();
        throw new IOException("the large model is down");
    }

    private async Task<Reply> AskOtherCoreAsync(string question, CancellationToken cancellationToken)
    {
        await Task.Yield();
        throw new IOException("the large model is down");
    }

    private async Task<Reply> AskSmallCoreAsync(string question, CancellationToken cancellationToken)
    {
        await Task.Yield();
        cancellationToken.ThrowIfCancellationRequested();
        return new Reply(question);
    }
}
