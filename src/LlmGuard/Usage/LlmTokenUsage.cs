namespace LlmGuard;

/// <summary>
/// The tokens one result of a guarded method says it used, and the model that produced it. Generated code reads it
/// from results that carry a Microsoft.Extensions.AI <c>UsageDetails</c>.
/// </summary>
public readonly struct LlmTokenUsage
{
    /// <summary>Creates the usage of one result.</summary>
    /// <param name="inputTokens">The input (prompt) tokens, or <see langword="null"/> when the result does not say.</param>
    /// <param name="outputTokens">The output (completion) tokens, or <see langword="null"/> when the result does not say.</param>
    /// <param name="model">The model that produced the result, or <see langword="null"/> when the result does not say.</param>
    public LlmTokenUsage(long? inputTokens, long? outputTokens, string? model = null)
    {
        InputTokens = inputTokens;
        OutputTokens = outputTokens;
        Model = model;
    }

    /// <summary>Gets the input (prompt) tokens, or <see langword="null"/> when the result does not say.</summary>
    public long? InputTokens { get; }

    /// <summary>Gets the output (completion) tokens, or <see langword="null"/> when the result does not say.</summary>
    public long? OutputTokens { get; }

    /// <summary>Gets the model that produced the result, or <see langword="null"/> when the result does not say.</summary>
    public string? Model { get; }
}
