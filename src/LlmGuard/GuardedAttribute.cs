using System;

namespace LlmGuard;

/// <summary>
/// Marks a partial method whose implementation LlmGuard generates: the call is keyed, shared with concurrent
/// callers of the same key (singleflight), run under a per-attempt timeout with retries on transient failures,
/// and answered by a fallback when every attempt failed.
/// </summary>
/// <remarks>
/// The hand-written core that calls the model has the guarded method's name with <c>Core</c> put before a
/// trailing <c>Async</c> (<c>AskAsync</c> → <c>AskCoreAsync</c>) or <c>Core</c> appended otherwise
/// (<c>Summarize</c> → <c>SummarizeCore</c>), or the name given by <see cref="Core"/>.
/// The attribute is read at compile time only; nothing reads it at run time.
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class GuardedAttribute : Attribute
{
    /// <summary>The per-attempt timeout used when <see cref="TimeoutMs"/> is not set: 30 seconds.</summary>
    public const int DefaultTimeoutMs = 30_000;

    /// <summary>The number of retries used when <see cref="MaxRetries"/> is not set.</summary>
    public const int DefaultMaxRetries = 2;

    /// <summary>The base retry delay used when <see cref="RetryDelayMs"/> is not set.</summary>
    public const int DefaultRetryDelayMs = 200;

    /// <summary>The longest honoured <c>Retry-After</c> when <see cref="MaxRetryAfterMs"/> is not set: 30 seconds.</summary>
    public const int DefaultMaxRetryAfterMs = 30_000;

    /// <summary>
    /// The number of items a shared stream keeps for consumers that join late, when <see cref="StreamReplayItems"/> is
    /// not set: 4096.
    /// </summary>
    public const int DefaultStreamReplayItems = 4096;

    /// <summary>
    /// Gets or sets the business scene that prefixes every key, for example <c>"ticket_autofill"</c>.
    /// Defaults to <c>TypeName.MethodName</c>.
    /// </summary>
    public string? Scene { get; set; }

    /// <summary>
    /// Gets or sets the key template, for example <c>"{req.UserId}:{req.SessionId}"</c>: <c>{name}</c> renders a
    /// parameter, <c>{name.A.B}</c> a member chain of one, <c>{$tenant}</c>, <c>{$user}</c>, <c>{$conversation}</c>
    /// and <c>{$module}</c> that value of <see cref="LlmCallContext.Current"/> at the call, <c>{{</c> and <c>}}</c>
    /// literal braces.
    /// Calls with equal keys share one execution. Without a template every parameter except the
    /// cancellation token and those marked <see cref="NotInKeyAttribute"/> or <see cref="MergeAppendAttribute"/> is a
    /// key part; with a template, the template alone decides.
    /// </summary>
    public string? Key { get; set; }

    /// <summary>
    /// Gets or sets the merge window in milliseconds; 0 (the default) means none. The first call for a key opens
    /// the window; calls for the key inside it join it and the latest call's arguments replace earlier ones; when
    /// it closes the core runs once with the latest arguments and every caller that joined gets that outcome.
    /// 0 to 86 400 000.
    /// </summary>
    public int MergeWindowMs { get; set; }

    /// <summary>Gets or sets how the merge window closes. Defaults to <see cref="LlmGuard.MergeMode.Fixed"/>.</summary>
    public MergeMode MergeMode { get; set; }

    /// <summary>
    /// Gets or sets, for <see cref="LlmGuard.MergeMode.Sliding"/> windows, the longest a window stays open after the
    /// call that opened it, in milliseconds: from <see cref="MergeWindowMs"/> to 86 400 000. Required with a sliding window.
    /// </summary>
    public int MergeMaxWaitMs { get; set; }

    /// <summary>
    /// Gets or sets whether a call that opens a new merge window while the previous window's execution still runs
    /// cancels that execution and moves its callers into the new window, so they receive the newer answer.
    /// </summary>
    /// <remarks>
    /// A chain of supersedes always answers its callers: a window does not supersede an execution whose oldest caller
    /// has waited <see cref="MergeMaxWaitMs"/> (sliding) or 5 × <see cref="MergeWindowMs"/> (fixed) or longer; that
    /// execution runs to its end and answers every caller of the chain.
    /// </remarks>
    public bool Supersede { get; set; }

    /// <summary>
    /// Gets or sets the timeout of each attempt in milliseconds; it cancels the token passed to the core.
    /// 0 means no timeout; otherwise 10 to 86 400 000. Defaults to <see cref="DefaultTimeoutMs"/>.
    /// </summary>
    public int TimeoutMs { get; set; } = DefaultTimeoutMs;

    /// <summary>
    /// Gets or sets, for a method that returns <c>IAsyncEnumerable&lt;T&gt;</c>, how long an attempt may take to produce
    /// its first item, in milliseconds; a deadline that passes cancels the attempt's token and counts as a transient
    /// failure. When it is not set, <see cref="TimeoutMs"/> is used. 0 means no limit; otherwise 10 to 86 400 000.
    /// </summary>
    public int FirstItemTimeoutMs { get; set; }

    /// <summary>
    /// Gets or sets, for a method that returns <c>IAsyncEnumerable&lt;T&gt;</c>, how long the stream may go without an
    /// item after the first, in milliseconds; a deadline that passes ends the stream with an interruption. When it is not
    /// set, <see cref="TimeoutMs"/> is used. 0 means no limit; otherwise 10 to 86 400 000.
    /// </summary>
    public int IdleTimeoutMs { get; set; }

    /// <summary>
    /// Gets or sets, for a method that returns <c>IAsyncEnumerable&lt;T&gt;</c>, how many items its shared stream keeps
    /// so that a consumer joining late still receives every item from the first, 1 to 1 000 000. Defaults to
    /// <see cref="DefaultStreamReplayItems"/>.
    /// </summary>
    public int StreamReplayItems { get; set; } = DefaultStreamReplayItems;

    /// <summary>
    /// Gets or sets how many times a transiently failed attempt is retried (0 to 100).
    /// Defaults to <see cref="DefaultMaxRetries"/>.
    /// </summary>
    public int MaxRetries { get; set; } = DefaultMaxRetries;

    /// <summary>
    /// Gets or sets the median delay before the first retry in milliseconds (0 to 86 400 000); later retries
    /// back off exponentially, with jitter. Defaults to <see cref="DefaultRetryDelayMs"/>.
    /// </summary>
    public int RetryDelayMs { get; set; } = DefaultRetryDelayMs;

    /// <summary>
    /// Gets or sets the longest wait a service may ask for, in milliseconds (0 to 86 400 000), before a retry.
    /// A transient failure whose <c>Retry-After</c> (or <c>retry-after-ms</c>) is within it is retried after exactly
    /// that delay, instead of the backoff; one that asks for longer ends the attempts at once, so the fallback or
    /// the caller gets the failure instead of waiting. Defaults to <see cref="DefaultMaxRetryAfterMs"/>.
    /// </summary>
    public int MaxRetryAfterMs { get; set; } = DefaultMaxRetryAfterMs;

    /// <summary>
    /// Gets or sets the name of the method that answers when every attempt failed, usually written
    /// <c>nameof(M)</c>. It takes the guarded method's parameters (with or without the cancellation token),
    /// optionally followed by the <see cref="Exception"/> that ended the last attempt, and returns the
    /// result type, a task of it or a value task of it.
    /// </summary>
    public string? Fallback { get; set; }

    /// <summary>Gets or sets the name of the core method, when it does not follow the naming rule.</summary>
    public string? Core { get; set; }

    /// <summary>
    /// Gets or sets whether concurrent calls with the same key share one execution. Defaults to <see langword="true"/>.
    /// </summary>
    public bool SingleFlight { get; set; } = true;

    /// <summary>
    /// Gets or sets how long a successful answer is kept in the runtime's <c>HybridCache</c> and served to later calls
    /// with the same key, in seconds; 0 (the default) means no caching. 0 to 2 592 000 (30 days).
    /// Fallback answers and failures are never stored.
    /// </summary>
    public int CacheSeconds { get; set; }

    /// <summary>
    /// Gets or sets how many executions of the method's scene run at once on a runtime, shared by every method of the
    /// scene; 0 (the default) means no limit. An execution past it is rejected at once (configure <c>MaxQueue</c> for the
    /// scene to let some wait). The scene setting <c>LlmGuard:Scenes:&lt;scene&gt;:MaxConcurrency</c> overrides it.
    /// </summary>
    public int MaxConcurrency { get; set; }

    /// <summary>
    /// Gets or sets the share of failed executions, above 0 and at most 1, that opens the scene's circuit breaker; 0 (the
    /// default) means no breaker. The breaker's other settings take their defaults unless the scene configures them;
    /// <c>LlmGuard:Scenes:&lt;scene&gt;:BreakerFailureRatio</c> overrides it.
    /// </summary>
    public double BreakerFailureRatio { get; set; }
}
