using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;

namespace LlmGuard;

/// <summary>
/// The compile-time settings of an <see cref="LlmGuardChatClient"/>: the values a <see cref="GuardedAttribute"/> would
/// carry. Configuration of the scene (<c>LlmGuard:Scenes:&lt;scene&gt;</c>) overrides them at run time, as it does a
/// guarded method's.
/// </summary>
public sealed class LlmGuardChatClientOptions
{
    /// <summary>The scene a client has unless <see cref="Scene"/> is set.</summary>
    public const string DefaultScene = "chat";

    /// <summary>
    /// Gets or sets the scene: the <c>llmguard.scene</c> of the client's telemetry, the name of its configuration
    /// section, and the prefix of its cache entries. Defaults to <see cref="DefaultScene"/>.
    /// </summary>
    public string Scene { get; set; } = DefaultScene;

    /// <summary>Gets or sets the timeout of each attempt in milliseconds; 0 for none, otherwise 10 to 86 400 000. Defaults to 30 000.</summary>
    public int TimeoutMs { get; set; } = GuardedAttribute.DefaultTimeoutMs;

    /// <summary>Gets or sets how many times a transient failure is retried, 0 to 100. Defaults to 2.</summary>
    public int MaxRetries { get; set; } = GuardedAttribute.DefaultMaxRetries;

    /// <summary>Gets or sets the median delay before the first retry in milliseconds, 0 to 86 400 000. Defaults to 200.</summary>
    public int RetryDelayMs { get; set; } = GuardedAttribute.DefaultRetryDelayMs;

    /// <summary>
    /// Gets or sets the longest <c>Retry-After</c> a retry waits for in milliseconds, 0 to 86 400 000; a service that
    /// asks for longer ends the attempts at once. Defaults to 30 000.
    /// </summary>
    public int MaxRetryAfterMs { get; set; } = GuardedAttribute.DefaultMaxRetryAfterMs;

    /// <summary>
    /// Gets or sets how long a streaming request may wait for its first update, in milliseconds; 0 for no limit,
    /// otherwise 10 to 86 400 000. A first update that does not come in time ends the attempt, which is retried like a
    /// timed-out one. <see langword="null"/> (the default) takes <see cref="TimeoutMs"/>.
    /// </summary>
    public int? FirstItemTimeoutMs { get; set; }

    /// <summary>
    /// Gets or sets how long a streaming request may go without an update after the first, in milliseconds; 0 for no
    /// limit, otherwise 10 to 86 400 000. A stream that goes quiet longer ends every consumer's stream with
    /// <see cref="Streaming.LlmStreamInterruptedException"/>. <see langword="null"/> (the default) takes <see cref="TimeoutMs"/>.
    /// </summary>
    public int? IdleTimeoutMs { get; set; }

    /// <summary>
    /// Gets or sets how many updates the shared stream of a key keeps for consumers that join late or read slowly, 1 to
    /// 1 000 000. Defaults to <see cref="GuardedAttribute.DefaultStreamReplayItems"/>. Once a stream has produced more,
    /// later requests of its key start a stream of their own, a consumer further behind gets
    /// <see cref="Streaming.LlmStreamOverflowException"/>, and the stream is not cached.
    /// </summary>
    public int StreamReplayItems { get; set; } = GuardedAttribute.DefaultStreamReplayItems;

    /// <summary>
    /// Gets or sets how long a successful response, or a streamed one that completed, stays in the runtime's
    /// <c>HybridCache</c>, in seconds, 0 to 2 592 000; 0 (the default) caches nothing. A response is only served to a
    /// request with the same key: the same messages, options, inner client and call context (see the package
    /// documentation); a stored stream answers only streaming requests, and a stored response only the others.
    /// </summary>
    public int CacheSeconds { get; set; }

    /// <summary>
    /// Gets or sets the JSON settings that turn the values the client cannot read itself (additional properties,
    /// function arguments and results, content types it does not know) into key material. Defaults to
    /// <see cref="AIJsonUtilities.DefaultOptions"/>. A request holding a value these settings cannot serialize runs
    /// unshared: it gets its own execution and is never cached.
    /// </summary>
    public JsonSerializerOptions? JsonSerializerOptions { get; set; }

    /// <summary>
    /// Gets or sets what answers when every attempt failed, or the runtime refused the request (a budget, a breaker, a
    /// limit): it receives the request's messages and the exception that ended it, and its response goes to every
    /// caller that shared the request. <see langword="null"/> (the default) gives the callers the exception. A fallback
    /// response is never cached, and each use is counted with <c>llmguard.result</c> = <c>fallback</c>
    /// (<c>rejected</c> for a refusal). A use that answers a failure or a budget's refusal is logged as
    /// <c>FallbackUsed</c>; a breaker's or a limit's refusal is logged by their own events instead. For a streaming
    /// request it answers only a failure before the first update, and its response is streamed as the updates it is
    /// made of.
    /// </summary>
    public Func<IReadOnlyList<ChatMessage>, Exception, CancellationToken, ValueTask<ChatResponse>>? Fallback { get; set; }
}
