using System;

namespace TicketDesk.Usage;

/// <summary>
/// One guarded execution as the usage table stores it: the fields of LlmGuard's usage record, under the same names.
/// </summary>
/// <param name="Scene">The guarded method's scene.</param>
/// <param name="Model">The model that answered, or <see langword="null"/> when unknown.</param>
/// <param name="InputTokens">Prompt tokens.</param>
/// <param name="OutputTokens">Completion tokens.</param>
/// <param name="Cost">What the tokens cost, or <see langword="null"/> when the model has no price.</param>
/// <param name="Duration">From the execution's start to its result.</param>
/// <param name="Result">How the execution ended (success, fallback, failure, ...).</param>
/// <param name="Tenant">The call context's tenant.</param>
/// <param name="User">The call context's user.</param>
/// <param name="Conversation">The call context's conversation.</param>
/// <param name="Module">The call context's module.</param>
/// <param name="RequestId">The call context's request id.</param>
/// <param name="CallersAnswered">How many callers the execution answered.</param>
/// <param name="TokensSaved">The execution's tokens times the callers it answered beyond the first.</param>
/// <param name="CompletedAt">When the execution ended.</param>
public sealed record UsageEntry(
    string Scene,
    string? Model,
    long InputTokens,
    long OutputTokens,
    decimal? Cost,
    TimeSpan Duration,
    string Result,
    string? Tenant,
    string? User,
    string? Conversation,
    string? Module,
    string? RequestId,
    int CallersAnswered,
    long TokensSaved,
    DateTimeOffset CompletedAt);
