using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard;
using Microsoft.Extensions.AI;

namespace TicketDesk.Tickets;

/// <summary>Turns a customer's text into a ticket draft.</summary>
public sealed partial class TicketAssistant(IChatClient chat, GuardRuntime runtime)
{
    private const string Instructions =
        "Fill in a support ticket from the customer's text. Answer with JSON: title (one line), " +
        "category (billing, technical, shipping or general), priority (low, normal or high).";

    private const int FallbackTitleLength = 80;

    /// <summary>
    /// A double-clicked "autofill" or a form that posts twice asks once: identical texts of one tenant share one
    /// model call while it runs. The tenant is in the key so two tenants never share an answer.
    /// </summary>
    [Guarded(
        Scene = "ticket_autofill",
        Key = "{$tenant}:{text}",
        TimeoutMs = 5000,
        MaxRetries = 2,
        RetryDelayMs = 200,
        Fallback = nameof(GuessDraft))]
    public partial Task<TicketDraft> AutofillAsync(string text, CancellationToken cancellationToken = default);

    private async Task<TicketDraft> AutofillCoreAsync(string text, CancellationToken cancellationToken)
    {
        ChatResponse<ModelDraft> response = await chat.GetResponseAsync<ModelDraft>(
            [new ChatMessage(ChatRole.System, Instructions), new ChatMessage(ChatRole.User, text)],
            new ChatOptions { MaxOutputTokens = 200 },
            useJsonSchemaResponseFormat: true,
            cancellationToken);
        ModelDraft draft = response.Result;
        return new TicketDraft(draft.Title, draft.Category, draft.Priority, Source: "model") { Usage = response.Usage, ModelId = response.ModelId };
    }

    // The agent still gets a ticket to edit when the model is down: the first line of the text as its title.
    private static TicketDraft GuessDraft(string text, CancellationToken cancellationToken, Exception failure)
    {
        string firstLine = text.Split('\n', 2)[0].Trim();
        string title = firstLine.Length <= FallbackTitleLength ? firstLine : firstLine[..FallbackTitleLength];
        return new TicketDraft(title, Category: "general", Priority: "normal", Source: "fallback");
    }

    // What the model is asked to return; its JSON schema goes to the model as the response format.
    private sealed record ModelDraft(string Title, string Category, string Priority);
}
