using System;
using System.Diagnostics;

namespace LlmGuard.Caching;

/// <summary>
/// What the caches found for one execution before it calls the model: a stored answer to serve, or the embedding of the
/// call's text, which the execution stores with its answer when it succeeds (empty when there is none).
/// </summary>
/// <typeparam name="TResult">The guarded method's result.</typeparam>
internal readonly struct CacheLookup<TResult>
{
    private CacheLookup(bool found, TResult value, long tokens, ActivityContext origin, ReadOnlyMemory<float> embedding)
    {
        Found = found;
        Value = value;
        Tokens = tokens;
        Origin = origin;
        Embedding = embedding;
    }

    /// <summary>Gets whether a stored answer was similar enough to serve.</summary>
    public bool Found { get; }

    public TResult Value { get; }

    /// <summary>Gets the tokens the execution that stored the answer used, which serving it saves.</summary>
    public long Tokens { get; }

    /// <summary>Gets the activity of the execution that stored the answer; default when unknown.</summary>
    public ActivityContext Origin { get; }

    public ReadOnlyMemory<float> Embedding { get; }

    public static CacheLookup<TResult> Hit(TResult value, long tokens, ActivityContext origin = default) => new(true, value, tokens, origin, default);

    public static CacheLookup<TResult> Miss(ReadOnlyMemory<float> embedding) => new(false, default!, 0, default, embedding);
}
