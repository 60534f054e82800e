namespace LlmGuard.Usage;

/// <summary>
/// The price of one model's tokens, in the currency the team accounts in (LlmGuard converts nothing): usage records and
/// costs are in that currency.
/// </summary>
public sealed class LlmModelPrice
{
    /// <summary>Gets or sets the price of one million input (prompt) tokens.</summary>
    public decimal InputPerMillionTokens { get; set; }

    /// <summary>Gets or sets the price of one million output (completion) tokens.</summary>
    public decimal OutputPerMillionTokens { get; set; }
}
