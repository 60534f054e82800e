using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json.Serialization;

namespace LlmGuard.Caching;

/// <summary>
/// What a cached method stores for one key: the successful result, and the tokens the execution that produced it used,
/// so a later call answered from the cache counts them as saved.
/// </summary>
/// <remarks>
/// Marked immutable so HybridCache's memory tier hands out this instance instead of deserializing a copy per hit. The
/// result inside is shared by every caller the entry answers, as it is among the callers of one execution.
/// </remarks>
/// <typeparam name="TResult">The guarded method's result.</typeparam>
[ImmutableObject(true)]
internal sealed class CachedAnswer<TResult>(TResult value, long tokens)
{
    public TResult Value { get; } = value;

    /// <summary>Gets the input and output tokens of the execution; 0 when it reported none.</summary>
    public long Tokens { get; } = tokens;

    /// <summary>
    /// Gets the activity of the execution that produced the answer, so a caller it later answers links to that trace;
    /// default when nothing traced it.
    /// </summary>
    [JsonIgnore]
    public ActivityContext Origin { get; init; }
}
