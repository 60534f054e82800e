using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Guarded;

/// <summary>Short timeouts, for cores that may ignore their token (a <see cref="ScriptedModel"/> that does).</summary>
public partial class StubbornAssistant(GuardRuntime runtime, ScriptedModel model)
{
    [Guarded(TimeoutMs = 50, MaxRetries = 0)]
    public partial Task<Reply> AskAsync(string sessionId, CancellationToken cancellationToken = default);

    [Guarded(TimeoutMs = 50, MaxRetries = 1, RetryDelayMs = 0)]
    public partial Task<Reply> AskWithRetryAsync(string sessionId, CancellationToken cancellationToken = default);

    [Guarded(TimeoutMs = 50, MaxRetries = 0, Fallback = nameof(Apologize))]
    public partial Task<Reply> AskOrApologizeAsync(string sessionId, CancellationToken cancellationToken = default);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<Reply> AskWithoutTimeoutAsync(string sessionId, CancellationToken cancellationToken = default);

    private async Task<Reply> AskCoreAsync(string sessionId, CancellationToken cancellationToken) =>
        new(await model.RespondAsync(sessionId, cancellationToken));

    private async Task<Reply> AskWithRetryCoreAsync(string sessionId, CancellationToken cancellationToken) =>
        new(await model.RespondAsync(sessionId, cancellationToken));

    private async Task<Reply> AskOrApologizeCoreAsync(string sessionId, CancellationToken cancellationToken) =>
        new(await model.RespondAsync(sessionId, cancellationToken));

    private async Task<Reply> AskWithoutTimeoutCoreAsync(string sessionId, CancellationToken cancellationToken) =>
        new(await model.RespondAsync(sessionId, cancellationToken));

    private static Reply Apologize(string sessionId, Exception exception) => new($"Sorry, {sessionId}: {exception.GetType().Name}");
}

/// <summary>A core the test scripts per call: it decides whether the core honours its token, ignores it, or answers at once.</summary>
public partial class ScriptedCoreAssistant(GuardRuntime runtime, Func<string, CancellationToken, Task<string>> core)
{
    [Guarded(TimeoutMs = 50, MaxRetries = 1, RetryDelayMs = 0)]
    public partial Task<string> AskAsync(string key, CancellationToken cancellationToken = default);

    private Task<string> AskCoreAsync(string key, CancellationToken cancellationToken) => core(key, cancellationToken);
}

/// <summary>
/// Two guarded methods whose cores call each other with the other's key: a caller of First(k1) and a caller of
/// Second(k2) that start together wait on each other's execution, a cycle across keys the recursion check does
/// not see. Each pair of methods is one timeout setting.
/// </summary>
public partial class CrossCallingAssistant(GuardRuntime runtime)
{
    private readonly TaskCompletionSource _bothStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _started;
    private int _waitingOnPeer;

    /// <summary>Cancelled by a test to end the cores' waits on each other when nothing else will.</summary>
    public CancellationTokenSource Release { get; } = new();

    /// <summary>How many cores have joined the other method's execution and wait for it.</summary>
    public int WaitingOnPeer => Volatile.Read(ref _waitingOnPeer);

    [Guarded(TimeoutMs = 50, MaxRetries = 0)]
    public partial Task<string> FirstTimedAsync(string key, string peerKey, CancellationToken cancellationToken = default);

    [Guarded(TimeoutMs = 50, MaxRetries = 0)]
    public partial Task<string> SecondTimedAsync(string key, string peerKey, CancellationToken cancellationToken = default);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> FirstUntimedAsync(string key, string peerKey, CancellationToken cancellationToken = default);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> SecondUntimedAsync(string key, string peerKey, CancellationToken cancellationToken = default);

    private Task<string> FirstTimedCoreAsync(string key, string peerKey, CancellationToken cancellationToken) =>
        CallPeerAsync(token => SecondTimedAsync(peerKey, key, token), cancellationToken);

    private Task<string> SecondTimedCoreAsync(string key, string peerKey, CancellationToken cancellationToken) =>
        CallPeerAsync(token => FirstTimedAsync(peerKey, key, token), cancellationToken);

    private Task<string> FirstUntimedCoreAsync(string key, string peerKey, CancellationToken cancellationToken) =>
        CallPeerAsync(token => SecondUntimedAsync(peerKey, key, token), cancellationToken);

    private Task<string> SecondUntimedCoreAsync(string key, string peerKey, CancellationToken cancellationToken) =>
        CallPeerAsync(token => FirstUntimedAsync(peerKey, key, token), cancellationToken);

    // Both executions start before either calls the other; otherwise the second call would run inside the first
    // execution and the recursion check would refuse it.
    private async Task<string> CallPeerAsync(Func<CancellationToken, Task<string>> peer, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _started) == 2)
        {
            _bothStarted.SetResult();
        }

        await _bothStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, Release.Token);
        Task<string> answer = peer(linked.Token);
        Interlocked.Increment(ref _waitingOnPeer);
        return "via " + await answer;
    }
}
