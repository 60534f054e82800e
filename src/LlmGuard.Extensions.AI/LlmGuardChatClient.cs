using System;
using System.Collections.Generic;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Infrastructure;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace LlmGuard;

/// <summary>
/// A chat client middleware that runs each <see cref="GetResponseAsync"/> through a <see cref="GuardRuntime"/>, as a
/// <see cref="GuardedAttribute">[Guarded]</see> method's generated body does: concurrent requests with the same key
/// share one request to the inner client, each attempt has a timeout, transient failures are retried with the
/// runtime's classification (honouring <c>Retry-After</c>), an optional fallback answers when they all fail, successful
/// responses may be cached, and every call is reported to the runtime's metrics, traces, logs, usage records and budgets under the client's scene.
/// </summary>
/// <remarks>
/// <para>
/// The key is a SHA-256 of the messages (role, author, every content), the options that change the answer, the inner
/// client's provider and default model, and the <see cref="LlmCallContext"/>'s tenant, user and conversation. A request
/// holding a value that cannot be keyed exactly (a value its JSON settings cannot serialize, options with a
/// <see cref="ChatOptions.RawRepresentationFactory"/>, or a tool whose settings the key cannot read) still runs guarded,
/// in an execution of its own, and is never cached.
/// </para>
/// <para>
/// Each caller receives its own <see cref="ChatResponse"/>: a copy of the shared one with its own message list, messages,
/// content lists, usage and additional properties, so middleware above this one (function invocation, for one) can
/// change what it received without changing another caller's response. The <see cref="AIContent"/> objects themselves
/// and the raw representation are shared and must not be changed in place.
/// </para>
/// <para>
/// <see cref="GetStreamingResponseAsync"/> passes through unguarded: streaming requests reach the inner client
/// directly, with no sharing, timeout, retry, cache or telemetry from LlmGuard.
/// </para>
/// </remarks>
public sealed class LlmGuardChatClient : DelegatingChatClient
{
    private const string ManifestName = "Microsoft.Extensions.AI.ChatClientBuilder.UseLlmGuard";

    // Makes a scene's check and registration one step, so two clients created at once with other settings cannot both register.
    private static readonly object s_manifestLock = new();

    private static readonly Func<ChatRequest, CancellationToken, ValueTask<ChatResponse>> s_attempt =
        static (request, attemptToken) => new ValueTask<ChatResponse>(request.Inner.GetResponseAsync(request.Messages, request.Options, attemptToken));

    private static readonly Func<ChatRequest, Exception, CancellationToken, ValueTask<ChatResponse>> s_fallback =
        static (request, failure, token) => request.Fallback!(request.Messages, failure, token);

    private readonly GuardedMethod<ChatResponse> _method;
    private readonly ChatClientMetadata? _client;
    private readonly JsonSerializerOptions _json;
    private readonly ILogger? _logger;
    private readonly Func<IReadOnlyList<ChatMessage>, Exception, CancellationToken, ValueTask<ChatResponse>>? _fallback;
    private int _streamingLogged;

    /// <summary>Creates a guarded chat client over <paramref name="innerClient"/>.</summary>
    /// <param name="innerClient">The client whose requests are guarded.</param>
    /// <param name="runtime">The runtime the requests run on; <see cref="GuardRuntime.Default"/> when <see langword="null"/>.</param>
    /// <param name="options">The client's settings; the defaults of <see cref="LlmGuardChatClientOptions"/> when <see langword="null"/>.</param>
    /// <remarks>
    /// Each instance has its own requests in flight: create it once and reuse it, as with any chat client. Its scene
    /// becomes known to configuration validation when it is created.
    /// </remarks>
    /// <exception cref="ArgumentException">The scene is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A setting is outside its range.</exception>
    /// <exception cref="InvalidOperationException">Another client of the same scene has other settings.</exception>
    public LlmGuardChatClient(IChatClient innerClient, GuardRuntime? runtime = null, LlmGuardChatClientOptions? options = null)
        : this(innerClient, runtime ?? GuardRuntime.Default, CreateMethod(options ?? new LlmGuardChatClientOptions()), options?.JsonSerializerOptions, options?.Fallback)
    {
    }

    internal LlmGuardChatClient(
        IChatClient innerClient,
        GuardRuntime runtime,
        GuardedMethod<ChatResponse> method,
        JsonSerializerOptions? json,
        Func<IReadOnlyList<ChatMessage>, Exception, CancellationToken, ValueTask<ChatResponse>>? fallback)
        : base(innerClient)
    {
        Runtime = runtime;
        _method = method;
        _fallback = fallback;
        _json = json ?? AIJsonUtilities.DefaultOptions;
        _client = innerClient.GetService<ChatClientMetadata>();
        _logger = runtime.LoggerFactory?.CreateLogger("LlmGuard");
    }

    /// <summary>Gets the runtime the client's requests run on.</summary>
    public GuardRuntime Runtime { get; }

    /// <summary>Gets the client's scene.</summary>
    public string Scene => _method.Scene;

    /// <summary>
    /// Sends the request through the guard: it waits for the request in flight with the same key or starts one, whose
    /// attempts run under the scene's timeout and retries; with caching on, a stored response answers it at once.
    /// </summary>
    /// <param name="messages">The conversation. The client works on a copy, so a caller may change its list afterwards.</param>
    /// <param name="options">The request's options; copied like the messages.</param>
    /// <param name="cancellationToken">Ends this caller's wait only; the request continues while another caller shares it.</param>
    /// <returns>This caller's own copy of the response.</returns>
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);

        // The execution runs with the copy of the caller that started it, for every caller that shares it: a caller that
        // leaves and then changes its history must not change what the others are answered from.
        var request = new ChatRequest(InnerClient, Snapshot(messages), options?.Clone(), _fallback);
        Func<ChatRequest, Exception, CancellationToken, ValueTask<ChatResponse>>? fallback = _fallback is null ? null : s_fallback;
        GuardedMethodState<ChatResponse> guard = _method.For(Runtime);
        string? key = ChatRequestKey.Compute(_client, request.Messages, request.Options, _json, out string? reason);
        ChatResponse shared;
        if (key is null)
        {
            if (_logger is not null)
            {
                ChatClientLog.RequestNotShared(_logger, Scene, reason!);
            }

            shared = await guard.RunUnsharedAsync(request, s_attempt, fallback, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            shared = await guard.RunAsync(key, request, s_attempt, fallback, merge: null, cancellationToken).ConfigureAwait(false);
        }

        return Copy(shared);
    }

    /// <summary>
    /// Passes the request to the inner client unguarded: no sharing, timeout, retry, cache or LlmGuard telemetry.
    /// Streaming joins the guard with LlmGuard's streaming support; until then, guard streaming requests with a
    /// <see cref="GuardedAttribute">[Guarded]</see> method that collects the stream, or call <see cref="GetResponseAsync"/>.
    /// </summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="options">The request's options.</param>
    /// <param name="cancellationToken">Cancels the stream.</param>
    /// <returns>The inner client's stream, as it is.</returns>
    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (_logger is not null && Interlocked.Exchange(ref _streamingLogged, 1) == 0)
        {
            ChatClientLog.StreamingNotGuarded(_logger, Scene);
        }

        return base.GetStreamingResponseAsync(messages, options, cancellationToken);
    }

    /// <summary>Describes a client's settings as a guarded method, and makes its scene known to configuration validation.</summary>
    internal static GuardedMethod<ChatResponse> CreateMethod(LlmGuardChatClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var method = new GuardedMethod<ChatResponse>(
            scene: options.Scene,
            timeoutMs: options.TimeoutMs,
            maxRetries: options.MaxRetries,
            retryDelayMs: options.RetryDelayMs,
            maxRetryAfterMs: options.MaxRetryAfterMs,
            usage: static response => new LlmTokenUsage(response?.Usage?.InputTokenCount, response?.Usage?.OutputTokenCount, response?.ModelId),
            cacheSeconds: options.CacheSeconds,
            cacheVersion: CacheVersion);
        var scene = new GuardScene(
            options.Scene,
            ManifestName,
            options.TimeoutMs,
            options.MaxRetries,
            options.RetryDelayMs,
            options.MaxRetryAfterMs,
            mergeWindowMs: 0,
            MergeMode.Fixed,
            mergeMaxWaitMs: 0,
            options.CacheSeconds);

        // Configuration of a scene is validated against the settings its code has (whether it may cache, for one): a
        // second client of the scene with other settings would be validated against the first one's, so it is refused.
        lock (s_manifestLock)
        {
            GuardScene? registered = null;
            foreach (GuardScene known in GuardSceneManifest.Scenes)
            {
                if (string.Equals(known.Method, ManifestName, StringComparison.Ordinal) && string.Equals(known.Scene, options.Scene, StringComparison.Ordinal))
                {
                    registered = known;
                    break;
                }
            }

            if (registered is null)
            {
                GuardSceneManifest.Register(scene);
            }
            else if (Settings(registered) != Settings(scene))
            {
                throw new InvalidOperationException(
                    $"The chat client scene '{options.Scene}' is already used by another UseLlmGuard() or LlmGuardChatClient with other settings " +
                    $"({Settings(registered)}; this one: {Settings(scene)}). Give each set of settings a scene of its own.");
            }
        }

        return method;
    }

    private static string Settings(GuardScene scene) => string.Create(
        CultureInfo.InvariantCulture,
        $"TimeoutMs {scene.TimeoutMs}, MaxRetries {scene.MaxRetries}, RetryDelayMs {scene.RetryDelayMs}, MaxRetryAfterMs {scene.MaxRetryAfterMs}, CacheSeconds {scene.CacheSeconds}");

    // The key's layout and the release of the response type's assembly: an upgrade that changes either never reads older entries.
    private static string CacheVersion { get; } = ComputeCacheVersion();

    private static string ComputeCacheVersion()
    {
        // The informational version ("10.11.0+commit") changes with every release; the assembly version stays 10.0.0.0.
        Assembly abstractions = typeof(ChatResponse).Assembly;
        string release = abstractions.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? abstractions.GetName().Version?.ToString() ?? "";
        string version = "LlmGuard.Extensions.AI|" + ChatRequestKey.Layout + "|" + typeof(ChatResponse).FullName + "|" + release;
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(version));
        return Convert.ToHexString(hash, 0, 8).ToLowerInvariant();
    }

    private static ChatMessage[] Snapshot(IEnumerable<ChatMessage> messages)
    {
        var snapshot = new List<ChatMessage>(messages is ICollection<ChatMessage> collection ? collection.Count : 4);
        foreach (ChatMessage message in messages)
        {
            snapshot.Add(CopyMessage(message));
        }

        return snapshot.ToArray();
    }

    private static ChatMessage CopyMessage(ChatMessage message)
    {
        ChatMessage copy = message.Clone();
        copy.Contents = new List<AIContent>(message.Contents);
        copy.AdditionalProperties = message.AdditionalProperties?.Clone();
        return copy;
    }

    // Callers that shared an execution, and every hit of a cached entry, receive one response object from the runtime.
    private static ChatResponse Copy(ChatResponse shared)
    {
        var messages = new List<ChatMessage>(shared.Messages.Count);
        foreach (ChatMessage message in shared.Messages)
        {
            messages.Add(CopyMessage(message));
        }

        UsageDetails? usage = null;
        if (shared.Usage is { } sharedUsage)
        {
            usage = new UsageDetails();
            usage.Add(sharedUsage);
        }

        return new ChatResponse(messages)
        {
            AdditionalProperties = shared.AdditionalProperties?.Clone(),
            ContinuationToken = shared.ContinuationToken,
            ConversationId = shared.ConversationId,
            CreatedAt = shared.CreatedAt,
            FinishReason = shared.FinishReason,
            ModelId = shared.ModelId,
            RawRepresentation = shared.RawRepresentation,
            ResponseId = shared.ResponseId,
            Usage = usage,
        };
    }

    private readonly record struct ChatRequest(
        IChatClient Inner,
        ChatMessage[] Messages,
        ChatOptions? Options,
        Func<IReadOnlyList<ChatMessage>, Exception, CancellationToken, ValueTask<ChatResponse>>? Fallback);
}
