using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace LlmGuard.Tests.Profiles;

/// <summary>A guarded method whose core asks the profile <c>support</c>, injected as a keyed <see cref="IChatClient"/>.</summary>
public partial class ProfiledAssistant(GuardRuntime runtime, [FromKeyedServices(ProfiledAssistant.Profile)] IChatClient support)
{
    public const string Profile = "support";
    public const string Scene = "profile_reply";
    public const string BusyReply = "All our agents are busy; we will answer shortly.";

    public Exception? LastFailure { get; private set; }

    [Guarded(Scene = Scene, TimeoutMs = 0, MaxRetries = 0, Fallback = nameof(Busy))]
    public partial Task<string> ReplyAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = Scene, TimeoutMs = 0, MaxRetries = 1, RetryDelayMs = 0, Fallback = nameof(Busy))]
    public partial Task<string> ReplyWithRetryAsync(string question, CancellationToken cancellationToken = default);

    // The attempt timeout is the default 30 s: a hanging model is cut off by the profile's own timeout first.
    [Guarded(Scene = Scene, MaxRetries = 0, Fallback = nameof(Busy))]
    public partial Task<string> ReplyWithDefaultTimeoutAsync(string question, CancellationToken cancellationToken = default);

    private Task<string> ReplyWithDefaultTimeoutCoreAsync(string question, CancellationToken cancellationToken) =>
        ReplyCoreAsync(question, cancellationToken);

    private Task<string> ReplyWithRetryCoreAsync(string question, CancellationToken cancellationToken) =>
        ReplyCoreAsync(question, cancellationToken);

    private async Task<string> ReplyCoreAsync(string question, CancellationToken cancellationToken)
    {
        ChatResponse response = await support.GetResponseAsync(question, cancellationToken: cancellationToken);
        return response.Text;
    }

    private string Busy(string question, Exception failure)
    {
        LastFailure = failure;
        return BusyReply;
    }
}
