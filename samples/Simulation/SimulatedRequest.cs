namespace Simulation;

/// <summary>What a chat-completion request asked, as the simulated provider's answer function reads it.</summary>
/// <param name="Model">The model the request named.</param>
/// <param name="Instructions">The system messages, one a line.</param>
/// <param name="Prompt">The user messages, one a line.</param>
/// <param name="WantsJson">Whether the request asked for a JSON answer (<c>response_format</c>).</param>
public sealed record SimulatedRequest(string Model, string Instructions, string Prompt, bool WantsJson)
{
    /// <summary>Whether the request asked for a streamed answer (<c>"stream": true</c>).</summary>
    public bool Stream { get; init; }

    /// <summary>Whether a streamed answer ends with a usage chunk (<c>stream_options.include_usage</c>).</summary>
    public bool IncludeUsage { get; init; }
}
