using System;

namespace LlmGuard.Caching;

/// <summary>
/// What the semantic cache found for one execution: a stored answer to serve, or the embedding of the call's text, which
/// the execution stores with its answer when it succeeds (empty when the text could not be embedded).
/// </summary>
/// <typeparam name="TResult">The guarded method's result.</typeparam>
internal readonly struct SemanticLookup<TResult>
{
    private SemanticLookup(bool found, TResult value, long tokens, ReadOnlyMemory<float> embedding)
    {
        Found = found;
        Value = value;
        Tokens = tokens;
        Embedding = embedding;
    }

    /// <summary>Gets whether a stored answer was similar enough to serve.</summary>
    public bool Found { get; }

    public TResult Value { get; }

    /// <summary>Gets the tokens the execution that stored the answer used, which serving it saves.</summary>
    public long Tokens { get; }

    public ReadOnlyMemory<float> Embedding { get; }

    public static SemanticLookup<TResult> Hit(TResult value, long tokens) => new(true, value, tokens, default);

    public static SemanticLookup<TResult> Miss(ReadOnlyMemory<float> embedding) => new(false, default!, 0, embedding);
}
