using System;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Tests.Caching;

/// <summary>Cached methods with a [SemanticCacheText] question, whose cores count their executions and answer as each test scripts them.</summary>
public partial class SemanticAssistant(GuardRuntime runtime)
{
    public const string AskScene = "semantic_ask";
    public const string TopicScene = "semantic_topic";
    public const string FallbackScene = "semantic_fallback";
    public const string TokensScene = "semantic_tokens";
    public const string MergedScene = "semantic_merged";

    private int _executions;

    /// <summary>Gets or sets what the core does with a question; answers at once by default.</summary>
    public Func<string, CancellationToken, Task<CachedReply>> Answer { get; set; } =
        static (question, _) => Task.FromResult(new CachedReply("answer to " + question));

    /// <summary>Gets how many times a core ran.</summary>
    public int Executions => Volatile.Read(ref _executions);

    public GuardRuntime Runtime => runtime;

    [Guarded(Scene = AskScene, Key = "{$user}:{question}", CacheSeconds = 60, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<CachedReply> AskAsync([SemanticCacheText] string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = TopicScene, Key = "{$tenant}:{topic}:{question}", CacheSeconds = 60, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<CachedReply> AskAboutAsync(string topic, [SemanticCacheText] string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = FallbackScene, Key = "{$user}:{question}", CacheSeconds = 60, TimeoutMs = 0, MaxRetries = 0, Fallback = nameof(Apologize))]
    public partial Task<CachedReply> AskOrApologizeAsync([SemanticCacheText] string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = TokensScene, Key = "{$user}:{question}", CacheSeconds = 60, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<CachedReply> AskCountedAsync([SemanticCacheText] string question);

    [Guarded(Scene = MergedScene, Key = "{$user}:{question}", CacheSeconds = 60, MergeWindowMs = 100, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<CachedReply> AskMergedAsync([SemanticCacheText] string question, CancellationToken cancellationToken = default);

    private Task<CachedReply> AskMergedCoreAsync(string question, CancellationToken cancellationToken) =>
        AskCoreAsync(question, cancellationToken);

    private Task<CachedReply> AskCoreAsync(string question, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _executions);
        return Answer(question, cancellationToken);
    }

    private Task<CachedReply> AskAboutCoreAsync(string topic, string question, CancellationToken cancellationToken) =>
        AskCoreAsync(topic + ": " + question, cancellationToken);

    private Task<CachedReply> AskOrApologizeCoreAsync(string question, CancellationToken cancellationToken) =>
        AskCoreAsync(question, cancellationToken);

    // Reports its tokens as a core on an SDK without Microsoft.Extensions.AI usage details does.
    private Task<CachedReply> AskCountedCoreAsync(string question)
    {
        LlmUsage.Report(inputTokens: 100, outputTokens: 20);
        return AskCoreAsync(question, CancellationToken.None);
    }

    private static CachedReply Apologize(string question, Exception failure) => new("sorry");
}
