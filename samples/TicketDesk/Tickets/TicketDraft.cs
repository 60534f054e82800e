using System.Text.Json.Serialization;
using Microsoft.Extensions.AI;

namespace TicketDesk.Tickets;

/// <summary>A ticket filled in from the customer's text, for an agent to check before it is filed.</summary>
/// <param name="Title">A one-line summary.</param>
/// <param name="Category">billing, technical, shipping or general.</param>
/// <param name="Priority">low, normal or high.</param>
/// <param name="Source"><c>model</c> when the model wrote it, <c>fallback</c> when the service guessed it because the model did not answer.</param>
public sealed record TicketDraft(string Title, string Category, string Priority, string Source)
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

/// <summary>The body of <c>POST /tickets/autofill</c>.</summary>
/// <param name="Text">What the customer wrote.</param>
public sealed record AutofillRequest(string Text);
