namespace LlmGuard.Caching;

/// <summary>
/// What a cached method stores for one key: the successful result, and the tokens the execution that produced it used,
/// so a later call answered from the cache counts them as saved.
/// </summary>
/// <typeparam name="TResult">The guarded method's result.</typeparam>
internal sealed class CachedAnswer<TResult>
{
    public TResult Value { get; set; } = default!;

    /// <summary>Gets or sets the input and output tokens of the execution; 0 when it reported none.</summary>
    public long Tokens { get; set; }
}
