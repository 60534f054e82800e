using System;
using System.Linq;
using System.Text.Json;
using Simulation;

namespace TicketDesk.Model;

/// <summary>What the simulated provider answers TicketDesk's two prompts with.</summary>
public static class SimulatedAnswers
{
    private const int TitleLength = 60;

    /// <summary>
    /// A ticket draft as JSON when the request asks for JSON (autofill); otherwise a chat reply that names every
    /// message it was given, one a line.
    /// </summary>
    public static string Answer(SimulatedRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.WantsJson ? Draft(request.Prompt) : Reply(request.Prompt);
    }

    private static string Draft(string text)
    {
        string lower = text.ToLowerInvariant();
        string category =
            ContainsAny(lower, "refund", "invoice", "charged", "payment") ? "billing" :
            ContainsAny(lower, "error", "crash", "login", "password") ? "technical" :
            ContainsAny(lower, "delivery", "parcel", "shipping", "arrived") ? "shipping" :
            "general";
        string priority = ContainsAny(lower, "urgent", "asap", "immediately", "down") ? "high" : "normal";
        string firstLine = text.Split('\n', 2)[0].Trim();
        string title = firstLine.Length <= TitleLength ? firstLine : firstLine[..TitleLength];
        return JsonSerializer.Serialize(new { title, category, priority });
    }

    private static string Reply(string prompt)
    {
        string[] messages = prompt.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return $"Thanks for your {messages.Length} message(s): {string.Join(" / ", messages)}. An agent is looking into it.";
    }

    private static bool ContainsAny(string text, params string[] words) => words.Any(text.Contains);
}
