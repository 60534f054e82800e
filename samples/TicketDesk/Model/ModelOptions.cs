using System;
using System.Collections.Generic;

namespace TicketDesk.Model;

/// <summary>The <c>Model</c> configuration section: which OpenAI-compatible server the assistants call.</summary>
public sealed class ModelOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "Model";

    /// <summary>The server's base address, e.g. <c>http://localhost:11434/v1</c>; unset starts the simulated provider.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The model to ask.</summary>
    public string Name { get; set; } = "ticketdesk-model";

    /// <summary>
    /// The server's API key (read only with <see cref="Endpoint"/>); unset reads the <c>OPENAI_API_KEY</c> environment
    /// variable. Keep it out of appsettings.json: user secrets or the <c>Model__ApiKey</c> environment variable.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// When the simulated provider answers (no <see cref="Endpoint"/>): how it treats the requests to each model named
    /// here, e.g. <c>Model:Simulated:ticketdesk-large:UnavailableRate=1</c> takes the primary model down. A model not
    /// named behaves as the busy provider.
    /// </summary>
    public Dictionary<string, SimulatedModelOptions> Simulated { get; } = new(StringComparer.Ordinal);
}
