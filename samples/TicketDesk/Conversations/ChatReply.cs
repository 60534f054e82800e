using System.Text.Json.Serialization;
using Microsoft.Extensions.AI;

namespace TicketDesk.Conversations;

/// <summary>The assistant's reply to the messages of a conversation.</summary>
/// <param name="Text">The reply.</param>
/// <param name="Source"><c>model</c> when the model wrote it, <c>fallback</c> when a human agent takes over because the model did not answer.</param>
public sealed record ChatReply(string Text, string Source)
{
    /// <summary>
    /// The tokens the model call used; the guard reads them for the usage records. Never sent to the client.
    /// </summary>
    [JsonIgnore]
    public UsageDetails? Usage { get; init; }

    /// <summary>The model that answered, which prices the tokens in the usage records. Never sent to the client.</summary>
    [JsonIgnore]
    public string? ModelId { get; init; }
}

/// <summary>The body of <c>POST /conversations/{id}/reply</c>.</summary>
/// <param name="Text">The customer's message.</param>
public sealed record ChatMessageRequest(string Text);
