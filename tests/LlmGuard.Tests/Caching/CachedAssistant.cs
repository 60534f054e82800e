using System;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Tests.Caching;

/// <summary>A cached answer; a record, as a team would write it, serialized by HybridCache.</summary>
public sealed record CachedReply(string Text);

/// <summary>Cached methods whose cores count their executions and answer as each test scripts them.</summary>
public partial class CachedAssistant(GuardRuntime runtime)
{
    private int _executions;

    /// <summary>Gets or sets what the core does with a question; answers at once by default.</summary>
    public Func<string, CancellationToken, Task<CachedReply>> Answer { get; set; } =
        static (question, _) => Task.FromResult(new CachedReply("answer to " + question));

    /// <summary>Gets how many times a core ran.</summary>
    public int Executions => Volatile.Read(ref _executions);

    public GuardRuntime Runtime => runtime;

    [Guarded(Scene = "cache_ask", Key = "{$user}:{question}", CacheSeconds = 60, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<CachedReply> AskAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = "cache_fallback", Key = "{$user}:{question}", CacheSeconds = 60, TimeoutMs = 0, MaxRetries = 0, Fallback = nameof(Apologize))]
    public partial Task<CachedReply> AskOrApologizeAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = "cache_tokens", Key = "{$user}:{question}", CacheSeconds = 60, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<CachedReply> AskCountedAsync(string question);

    [Guarded(Scene = "cache_generic", Key = "{$user}:{question}", CacheSeconds = 60, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> DescribeAsync<TSubject>(string question);

    private Task<string> DescribeCoreAsync<TSubject>(string question)
    {
        Interlocked.Increment(ref _executions);
        return Task.FromResult(typeof(TSubject).Name + ": " + question);
    }

    // Reports its tokens as a core on an SDK without Microsoft.Extensions.AI usage details does.
    private Task<CachedReply> AskCountedCoreAsync(string question)
    {
        LlmUsage.Report(inputTokens: 100, outputTokens: 20);
        return AskCoreAsync(question, CancellationToken.None);
    }

    private Task<CachedReply> AskCoreAsync(string question, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _executions);
        return Answer(question, cancellationToken);
    }

    private Task<CachedReply> AskOrApologizeCoreAsync(string question, CancellationToken cancellationToken) =>
        AskCoreAsync(question, cancellationToken);

    private static CachedReply Apologize(string question, Exception failure) => new("sorry");
}
