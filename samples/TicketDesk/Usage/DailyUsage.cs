namespace TicketDesk.Usage;

/// <summary>One tenant's model usage on one day (UTC), as <c>GET /usage/daily</c> returns it.</summary>
/// <param name="Day">The day, <c>yyyy-MM-dd</c>.</param>
/// <param name="Tenant">The tenant, or <see langword="null"/> for calls made outside a tenant.</param>
/// <param name="Executions">Guarded executions, each one model call or one fallback.</param>
/// <param name="CallersAnswered">Callers those executions answered.</param>
/// <param name="InputTokens">Prompt tokens.</param>
/// <param name="OutputTokens">Completion tokens.</param>
/// <param name="Cost">What the tokens cost; <see langword="null"/> when no execution of the day had a price.</param>
/// <param name="TokensSaved">Tokens that callers would have spent had they not shared an execution.</param>
public sealed record DailyUsage(
    string Day,
    string? Tenant,
    long Executions,
    long CallersAnswered,
    long InputTokens,
    long OutputTokens,
    decimal? Cost,
    long TokensSaved);
