using System;
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Threading;
using System.Threading.Tasks;
using Anthropic;
using Anthropic.Models.Messages;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;

namespace LlmGuard.Tests.Failures;

/// <summary>What the fallbacks of one assistant saw: how often they answered and the exception that ended the attempts.</summary>
public sealed class FallbackLog
{
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public Exception? LastFailure { get; private set; }

    public string Record(Exception exception)
    {
        LastFailure = exception;
        Interlocked.Increment(ref _count);
        return "fallback";
    }
}

/// <summary>The OpenAI SDK's <see cref="ChatClient"/>, used directly.</summary>
public sealed partial class OpenAiAssistant(GuardRuntime runtime, ChatClient chat)
{
    private readonly GuardRuntime _runtime = runtime;

    public FallbackLog Fallbacks { get; } = new();

    [Guarded(TimeoutMs = 0, MaxRetries = 2, RetryDelayMs = 0, Fallback = nameof(Apologize))]
    public partial Task<string> AskAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(TimeoutMs = 1000, MaxRetries = 2, RetryDelayMs = 0, Fallback = nameof(Apologize))]
    public partial Task<string> AskWithTimeoutAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(TimeoutMs = 0, MaxRetries = 2, RetryDelayMs = 0, MaxRetryAfterMs = 0, Fallback = nameof(Apologize))]
    public partial Task<string> AskWithoutWaitingAsync(string question, CancellationToken cancellationToken = default);

    /// <summary>A client whose own retries are off, so every HTTP request the server sees is one attempt of the guard.</summary>
    public static ChatClient Client(Uri server, int sdkRetries = 0) => new(
        model: "gpt-4o-mini",
        credential: new ApiKeyCredential("test-key"),
        options: new OpenAIClientOptions
        {
            Endpoint = new Uri(server, "v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: sdkRetries),
        });

    private async Task<string> AskCoreAsync(string question, CancellationToken cancellationToken)
    {
        ClientResult<ChatCompletion> completion = await chat.CompleteChatAsync([new UserChatMessage(question)], cancellationToken: cancellationToken);
        return completion.Value.Content[0].Text;
    }

    private Task<string> AskWithTimeoutCoreAsync(string question, CancellationToken cancellationToken) => AskCoreAsync(question, cancellationToken);

    private Task<string> AskWithoutWaitingCoreAsync(string question, CancellationToken cancellationToken) => AskCoreAsync(question, cancellationToken);

    private string Apologize(string question, Exception exception) => Fallbacks.Record(exception);
}

/// <summary>The OpenAI SDK through Microsoft.Extensions.AI's <see cref="IChatClient"/>, as most applications call it.</summary>
public sealed partial class ChatClientAssistant(GuardRuntime runtime, IChatClient chat)
{
    private readonly GuardRuntime _runtime = runtime;

    public FallbackLog Fallbacks { get; } = new();

    [Guarded(TimeoutMs = 0, MaxRetries = 2, RetryDelayMs = 0, Fallback = nameof(Apologize))]
    public partial Task<string> AskAsync(string question, CancellationToken cancellationToken = default);

    private async Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) =>
        (await chat.GetResponseAsync(question, cancellationToken: cancellationToken)).Text;

    private string Apologize(string question, Exception exception) => Fallbacks.Record(exception);
}

/// <summary>The official Anthropic SDK.</summary>
public sealed partial class ClaudeAssistant(GuardRuntime runtime, AnthropicClient claude)
{
    private readonly GuardRuntime _runtime = runtime;

    public FallbackLog Fallbacks { get; } = new();

    [Guarded(TimeoutMs = 0, MaxRetries = 2, RetryDelayMs = 0, Fallback = nameof(Apologize))]
    public partial Task<string> AskAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(TimeoutMs = 1000, MaxRetries = 2, RetryDelayMs = 0, Fallback = nameof(Apologize))]
    public partial Task<string> AskWithTimeoutAsync(string question, CancellationToken cancellationToken = default);

    /// <summary>A client whose own retries are off, so every HTTP request the server sees is one attempt of the guard.</summary>
    public static AnthropicClient Client(Uri server, int sdkRetries = 0) => new()
    {
        ApiKey = "test-key",
        BaseUrl = server.ToString().TrimEnd('/'),
        MaxRetries = sdkRetries,
    };

    private async Task<string> AskCoreAsync(string question, CancellationToken cancellationToken)
    {
        Message message = await claude.Messages.Create(
            new MessageCreateParams
            {
                Model = "claude-test",
                MaxTokens = 64,
                Messages = [new UserMessageParam { Content = question }],
            },
            cancellationToken);
        return message.Content[0].TryPickText(out TextBlock? text) ? text.Text : string.Empty;
    }

    private Task<string> AskWithTimeoutCoreAsync(string question, CancellationToken cancellationToken) => AskCoreAsync(question, cancellationToken);

    private string Apologize(string question, Exception exception) => Fallbacks.Record(exception);
}
