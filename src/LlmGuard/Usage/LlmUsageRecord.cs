using System;

namespace LlmGuard.Usage;

/// <summary>What one execution of a guarded method used: one record per execution, however many callers it answered.</summary>
public sealed record class LlmUsageRecord
{
    /// <summary>Gets the scene of the guarded method.</summary>
    public required string Scene { get; init; }

    /// <summary>Gets the model that answered, or <see langword="null"/> when neither the result nor the core said.</summary>
    public string? Model { get; init; }

    /// <summary>Gets the input (prompt) tokens of the execution, over every attempt.</summary>
    public long InputTokens { get; init; }

    /// <summary>Gets the output (completion) tokens of the execution, over every attempt.</summary>
    public long OutputTokens { get; init; }

    /// <summary>
    /// Gets the cost of the tokens at the model's price in <c>LlmGuardOptions.Prices</c>, in the currency the prices are
    /// written in; <see langword="null"/> when the model is unknown or has no price.
    /// </summary>
    public decimal? Cost { get; init; }

    /// <summary>Gets how long the execution ran, attempts, retry delays and fallback included.</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>Gets how the execution ended: <c>success</c>, <c>fallback</c>, <c>error</c>, <c>cancelled</c> or <c>rejected</c>.</summary>
    public required string Result { get; init; }

    /// <summary>Gets the tenant of the call context the execution ran in, or <see langword="null"/>.</summary>
    public string? Tenant { get; init; }

    /// <summary>Gets the user of the call context the execution ran in, or <see langword="null"/>.</summary>
    public string? User { get; init; }

    /// <summary>Gets the conversation of the call context the execution ran in, or <see langword="null"/>.</summary>
    public string? Conversation { get; init; }

    /// <summary>Gets the module of the call context the execution ran in, or <see langword="null"/>.</summary>
    public string? Module { get; init; }

    /// <summary>Gets the request id of the call context the execution ran in, or <see langword="null"/>.</summary>
    public string? RequestId { get; init; }

    /// <summary>Gets how many callers the execution answered: itself, the callers that joined it and those merged into it.</summary>
    public int CallersAnswered { get; init; }

    /// <summary>
    /// Gets the tokens the guard saved: the execution's tokens times the callers it answered beyond the first, each of
    /// which would otherwise have run its own execution.
    /// </summary>
    public long TokensSaved { get; init; }

    /// <summary>Gets when the execution ended, on the runtime's clock.</summary>
    public DateTimeOffset CompletedAt { get; init; }
}
