using LlmGuard.Generators.Common;

namespace LlmGuard.Generators.Models;

/// <summary>What the emitter needs to write one guarded method. Strings, numbers and equatable arrays only.</summary>
/// <remarks><c>Version</c> is a hash of the signature, key template and result type: it versions cached answers and keys
/// the executions a Distributed scene shares across instances.</remarks>
internal sealed record GuardedMethodSpec(
    TypeHierarchy ContainingType,
    string ContainingTypeDisplay,
    string Name,
    string Modifiers,
    string ReturnType,
    ReturnShape Shape,
    string ResultType,
    EquatableArray<ParameterSpec> Parameters,
    string TypeParameters,
    string ConstraintClauses,
    bool IsStatic,
    string CoreName,
    KeySpec Key,
    PolicySpec Policy,
    FallbackSpec? Fallback,
    RuntimeSpec Runtime,
    bool SingleFlight,
    MergeSpec? Merge,
    EquatableArray<AppendSpec> Appends,
    UsageSpec? Usage = null,
    CacheSpec? Cache = null,
    SemanticSpec? Semantic = null,
    StreamSpec? Stream = null,
    string Version = "")
{
    /// <summary>The generated members' name stem, <c>__AskAsync</c>; overloads get a number from the emitter.</summary>
    public string MemberStem => "__" + Name.TrimStart('@');
}

/// <summary>
/// What the guarded method returns. The executions of the task shapes produce a <c>ValueTask&lt;TResult&gt;</c>; a
/// streaming method (<see cref="AsyncEnumerable"/>) returns the shared stream of its key, whose items are TResult.
/// </summary>
internal enum ReturnShape
{
    Task,
    TaskOfT,
    ValueTask,
    ValueTaskOfT,
    AsyncEnumerable,
}

// Name: The parameter's name as C# source writes it (keywords escaped with <c>@</c>).
// Type: The fully qualified type.
// Modifier: <c>params </c>, <c>this </c> or empty; a stub's parameters may also carry <c>scoped</c> and a ref kind.
internal sealed record ParameterSpec(string Name, string Type, string Modifier, bool IsCancellationToken);

// TimeoutMs: Per-attempt timeout; 0 for none.
// MaxRetryAfterMs: The longest Retry-After a retry waits for.
// MaxConcurrency and BreakerFailureRatio are 0 when the attribute asks for no limit and no breaker.
internal sealed record PolicySpec(int TimeoutMs, int MaxRetries, int RetryDelayMs, int MaxRetryAfterMs, int MaxConcurrency, double BreakerFailureRatio);

// The deadlines and replay bound of a method that returns IAsyncEnumerable<T>; a deadline of 0 means no limit.
internal sealed record StreamSpec(int FirstItemTimeoutMs, int IdleTimeoutMs, int ReplayItems);

// Expression: How the type's GuardRuntime member is read (<c>this._runtime</c>, <c>s_runtime</c>, a primary-constructor parameter), or <see langword="null"/> when the type has none and the process-wide default is used.
internal sealed record RuntimeSpec(string? Expression, bool IsStatic);

// How generated code reads the tokens a result used from its Microsoft.Extensions.AI UsageDetails.
// CanBeNull: the result is a reference type, so it is read with ?.; ReadsModelId: the result has a string ModelId.
internal sealed record UsageSpec(bool CanBeNull, bool ReadsModelId);

// Seconds: how long a successful answer stays cached (the method's Version keeps a changed build from reading the
// entries an older one stored).
internal sealed record CacheSpec(int Seconds);

// ParameterName: the [SemanticCacheText] parameter, as source writes it. Scope: the key without that parameter, which
// the semantic cache's answers must match exactly.
internal sealed record SemanticSpec(string ParameterName, KeySpec Scope);

// WindowMs: how long a window stays open (or, sliding, the quiet time that closes it); MaxWaitMs caps a sliding window.
internal sealed record MergeSpec(int WindowMs, bool Sliding, int MaxWaitMs, bool Supersede);

/// <summary>A [MergeAppend] parameter: merged calls' values are joined (strings) or concatenated (collections).</summary>
internal sealed record AppendSpec(string ParameterName, AppendKind Kind, string Separator);

internal enum AppendKind
{
    String,
    Array,
    List,
}
