namespace LlmGuard.Profiles;

/// <summary>
/// One model of a profile: a keyed <see cref="Microsoft.Extensions.AI.IChatClient"/> service, a model id sent to a
/// client, or both.
/// </summary>
public sealed class LlmProfileModelOptions
{
    /// <summary>
    /// Gets or sets the key of the keyed <see cref="Microsoft.Extensions.AI.IChatClient"/> service that answers this
    /// model's requests; <see langword="null"/> for the container's unkeyed <c>IChatClient</c>.
    /// </summary>
    public string? Client { get; set; }

    /// <summary>
    /// Gets or sets the model id set on each request's <see cref="Microsoft.Extensions.AI.ChatOptions.ModelId"/>;
    /// <see langword="null"/> leaves the request's options as the caller passed them, so the client's own model answers.
    /// </summary>
    public string? Model { get; set; }
}
