using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json.Serialization;
using System.Threading.Tasks;

namespace LlmGuard.Caching;

/// <summary>
/// What a cached method stores for one key: the successful result, and the tokens the execution that produced it used,
/// so a later call answered from the cache counts them as saved.
/// </summary>
/// <remarks>
/// Sealed and marked immutable so that HybridCache keeps the instance itself in memory and returns it on every hit,
/// instead of deserializing a copy from its stored bytes per hit. The callers of a hit therefore share one result
/// object, as the callers that join one singleflight execution already do.
/// </remarks>
/// <typeparam name="TResult">The guarded method's result.</typeparam>
[ImmutableObject(true)]
internal sealed class CachedAnswer<TResult>
{
    // The completed task a hit answers with; one per instance, which lives as long as the entry in memory.
    private Task<TResult>? _answer;

    /// <summary>Initializes an answer; also the constructor System.Text.Json reads a distributed entry with.</summary>
    /// <param name="value">The successful result.</param>
    /// <param name="tokens">The input and output tokens of the execution; 0 when it reported none.</param>
    public CachedAnswer(TResult value, long tokens)
    {
        Value = value;
        Tokens = tokens;
    }

    /// <summary>Gets the successful result.</summary>
    public TResult Value { get; }

    /// <summary>Gets the input and output tokens of the execution; 0 when it reported none.</summary>
    public long Tokens { get; }

    /// <summary>
    /// Gets a completed task of <see cref="Value"/>, created on the first hit and returned to every later one: a
    /// completed task can be awaited by any number of callers, like the task of an execution that callers joined.
    /// </summary>
    public Task<TResult> AsTask() => _answer ??= Task.FromResult(Value);

    /// <summary>
    /// Gets the activity of the execution that produced the answer, so a caller it later answers links to that trace;
    /// default when nothing traced it.
    /// </summary>
    [JsonIgnore]
    public ActivityContext Origin { get; init; }
}
