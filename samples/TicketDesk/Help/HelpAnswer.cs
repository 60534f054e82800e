using System.Text.Json.Serialization;
using Microsoft.Extensions.AI;

namespace TicketDesk.Help;

/// <summary>The answer to a customer's question, and which level of the degradation wrote it.</summary>
/// <param name="Text">The answer.</param>
/// <param name="Source">
/// <see cref="Primary"/>, <see cref="Small"/>, <see cref="Static"/> or <see cref="Shed"/>: the level that answered.
/// </param>
public sealed record HelpAnswer(string Text, string Source)
{
    /// <summary>The primary model (profile <c>normal</c>) wrote the answer.</summary>
    public const string Primary = "primary";

    /// <summary>The primary model failed, timed out or was refused, and the smaller model (profile <c>fast</c>) wrote it.</summary>
    public const string Small = "small";

    /// <summary>Neither model could answer: the static "busy" reply.</summary>
    public const string Static = "static";

    /// <summary>Both models' scenes were at their concurrency and queue bounds: the request was refused at once.</summary>
    public const string Shed = "shed";

    /// <summary>
    /// The tokens the model call used; the guard reads them for the usage records. Never sent to the client.
    /// </summary>
    [JsonIgnore]
    public UsageDetails? Usage { get; init; }

    /// <summary>The model that answered, which prices the tokens in the usage records. Never sent to the client.</summary>
    [JsonIgnore]
    public string? ModelId { get; init; }
}

/// <summary>The body of <c>POST /help/answer</c>.</summary>
/// <param name="Question">What the customer asks.</param>
public sealed record HelpQuestion(string Question);
