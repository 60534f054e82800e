using System;

namespace LlmGuard.Caching;

/// <summary>
/// What the semantic cache of one call compares: the text of its <see cref="SemanticCacheTextAttribute">[SemanticCacheText]</see>
/// parameter, within the scope its other key parts make. Generated code creates one per call of a method with such a parameter.
/// </summary>
public readonly struct SemanticQuery
{
    /// <summary>Creates the semantic query of one call.</summary>
    /// <param name="scope">
    /// The call's key rendered without the marked parameter: only answers stored under an equal scope can be served, so
    /// the tenant, user, conversation and every other key part must match exactly.
    /// </param>
    /// <param name="text">The text that is embedded and compared; a <see langword="null"/> or empty text is never looked up or stored.</param>
    /// <exception cref="ArgumentNullException"><paramref name="scope"/> is <see langword="null"/>.</exception>
    public SemanticQuery(string scope, string? text)
    {
        ArgumentNullException.ThrowIfNull(scope);
        Scope = scope;
        Text = text;
    }

    /// <summary>Gets the call's key without the marked parameter; answers are only served within an equal scope.</summary>
    public string Scope { get; }

    /// <summary>Gets the text that is embedded and compared.</summary>
    public string? Text { get; }
}
