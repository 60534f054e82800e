using System;
using System.Collections.Generic;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
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
/// A chat client middleware that runs each <see cref="GetResponseAsync"/> and <see cref="GetStreamingResponseAsync"/>
/// through a <see cref="GuardRuntime"/>, as a <see cref="GuardedAttribute">[Guarded]</see> method's generated body does:
/// concurrent requests with the same key share one request to the inner client, each attempt has a timeout, transient failures are retried with the
/// runtime's classification (honouring <c>Retry-After</c>), an optional fallback answers when they all fail, successful
/// responses (and completed streams) may be cached, and every call of either kind is reported to the runtime's metrics,
/// traces, logs, usage records and budgets under the client's scene.
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
/// A streaming request is keyed the same way and shares one upstream stream with the concurrent streaming requests of
/// its key; each consumer receives every update from the first, as its own copy (with its own content list and
/// additional properties). <see cref="LlmGuardChatClientOptions.FirstItemTimeoutMs"/> bounds the wait for the first
/// update and <see cref="LlmGuardChatClientOptions.IdleTimeoutMs"/> the wait for each next one (both
/// <see cref="LlmGuardChatClientOptions.TimeoutMs"/> unless set); transient failures before the first update are retried
/// and then answered by the fallback, if any, and a failure after it ends every consumer's stream with
/// <see cref="Streaming.LlmStreamInterruptedException"/>. When a consumer stops reading, only that consumer leaves; the
/// request to the inner client is cancelled when the last one leaves. With caching on, a stream that completed is stored
/// whole and answers later streaming requests of its key.
/// </para>
/// </remarks>
public sealed class LlmGuardChatClient : DelegatingChatClient
{
    private const string ManifestName = "Microsoft.Extensions.AI.ChatClientBuilder.UseLlmGuard";

    // Makes a scene's check and registration one step, so two clients created at once with other settings cannot both register.
    private static readonly object s_manifestLock = new();

    // The settings each scene was registered with, stream settings included, which the manifest does not hold.
    private static readonly Dictionary<string, string> s_sceneSettings = new(StringComparer.Ordinal);

    private static readonly Func<ChatRequest, CancellationToken, ValueTask<ChatResponse>> s_attempt =
        static (request, attemptToken) => new ValueTask<ChatResponse>(request.Inner.GetResponseAsync(request.Messages, request.Options, attemptToken));

    private static readonly Func<ChatRequest, Exception, CancellationToken, ValueTask<ChatResponse>> s_fallback =
        static (request, failure, token) => request.Fallback!(request.Messages, failure, token);

    private static readonly Func<ChatRequest, CancellationToken, IAsyncEnumerable<ChatResponseUpdate>> s_streamAttempt =
        static (request, attemptToken) => request.Inner.GetStreamingResponseAsync(request.Messages, request.Options, attemptToken);

    private static readonly Func<ChatRequest, Exception, CancellationToken, IAsyncEnumerable<ChatResponseUpdate>> s_streamFallback =
        static (request, failure, token) => StreamFallbackAsync(request, failure, token);

    private readonly GuardedMethod<ChatResponse> _method;
    private readonly GuardedStreamMethod<ChatResponseUpdate> _streamMethod;
    private readonly ChatClientMetadata? _client;
    private readonly JsonSerializerOptions _json;
    private readonly ILogger? _logger;
    private readonly Func<IReadOnlyList<ChatMessage>, Exception, CancellationToken, ValueTask<ChatResponse>>? _fallback;

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
        : this(innerClient, runtime ?? GuardRuntime.Default, CreateMethods(options ?? new LlmGuardChatClientOptions()), options?.JsonSerializerOptions, options?.Fallback)
    {
    }

    internal LlmGuardChatClient(
        IChatClient innerClient,
        GuardRuntime runtime,
        ChatClientMethods methods,
        JsonSerializerOptions? json,
        Func<IReadOnlyList<ChatMessage>, Exception, CancellationToken, ValueTask<ChatResponse>>? fallback)
        : base(innerClient)
    {
        Runtime = runtime;
        _method = methods.Response;
        _streamMethod = methods.Stream;
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
    /// Streams the request through the guard: it joins the stream in flight with the same key or starts one, whose
    /// attempts run under the scene's first-update and idle deadlines and its retries (before the first update); with
    /// caching on, a stored stream of the key answers it at once. The request starts when the caller reads the first
    /// update, not when this method returns.
    /// </summary>
    /// <param name="messages">The conversation. The client works on a copy, so a caller may change its list afterwards.</param>
    /// <param name="options">The request's options; copied like the messages.</param>
    /// <param name="cancellationToken">
    /// Ends this caller's stream only; the request to the inner client continues while another caller reads it, and is
    /// cancelled when the last one leaves.
    /// </param>
    /// <returns>
    /// Every update of the shared stream from the first, each this caller's own copy. A failure before the first
    /// update ends it as it is; after it, as a <see cref="Streaming.LlmStreamInterruptedException"/>.
    /// </returns>
    public override IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);

        // As for GetResponseAsync: the upstream runs with the copy of the caller that started it.
        var request = new ChatRequest(InnerClient, Snapshot(messages), options?.Clone(), _fallback);
        string? key = ChatRequestKey.Compute(_client, request.Messages, request.Options, _json, out string? reason);
        GuardedStreamMethodState<ChatResponseUpdate> guard = _streamMethod.For(Runtime);
        Func<ChatRequest, Exception, CancellationToken, IAsyncEnumerable<ChatResponseUpdate>>? fallback = _fallback is null ? null : s_streamFallback;
        IAsyncEnumerable<ChatResponseUpdate> shared;
        if (key is null)
        {
            if (_logger is not null)
            {
                ChatClientLog.RequestNotShared(_logger, Scene, reason!);
            }

            shared = guard.StreamUnshared(request, s_streamAttempt, fallback, cancellationToken);
        }
        else
        {
            shared = guard.Stream(key, request, s_streamAttempt, fallback, cancellationToken);
        }

        // The caller's token already ends its consumer of the shared stream; this one is an enumeration's own, if any.
        return CopyEach(shared, CancellationToken.None);
    }

    /// <summary>Describes a client's settings as guarded methods, and makes its scene known to configuration validation.</summary>
    internal static ChatClientMethods CreateMethods(LlmGuardChatClientOptions options)
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

        // Unless told otherwise, a stream waits for its first update, and then for each next one, as long as a response may take.
        var stream = new GuardedStreamMethod<ChatResponseUpdate>(
            scene: options.Scene,
            firstItemTimeoutMs: options.FirstItemTimeoutMs ?? options.TimeoutMs,
            idleTimeoutMs: options.IdleTimeoutMs ?? options.TimeoutMs,
            maxRetries: options.MaxRetries,
            retryDelayMs: options.RetryDelayMs,
            maxRetryAfterMs: options.MaxRetryAfterMs,
            replayItems: options.StreamReplayItems,
            cacheSeconds: options.CacheSeconds,
            cacheVersion: StreamCacheVersion);
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
        string settings = Settings(options);
        lock (s_manifestLock)
        {
            if (!s_sceneSettings.TryGetValue(options.Scene, out string? registered))
            {
                s_sceneSettings.Add(options.Scene, settings);
                GuardSceneManifest.Register(scene);
            }
            else if (registered != settings)
            {
                throw new InvalidOperationException(
                    $"The chat client scene '{options.Scene}' is already used by another UseLlmGuard() or LlmGuardChatClient with other settings " +
                    $"({registered}; this one: {settings}). Give each set of settings a scene of its own.");
            }
        }

        return new ChatClientMethods(method, stream);
    }

    private static string Settings(LlmGuardChatClientOptions options) => string.Create(
        CultureInfo.InvariantCulture,
        $"TimeoutMs {options.TimeoutMs}, MaxRetries {options.MaxRetries}, RetryDelayMs {options.RetryDelayMs}, MaxRetryAfterMs {options.MaxRetryAfterMs}, CacheSeconds {options.CacheSeconds}, " +
        $"FirstItemTimeoutMs {options.FirstItemTimeoutMs ?? options.TimeoutMs}, IdleTimeoutMs {options.IdleTimeoutMs ?? options.TimeoutMs}, StreamReplayItems {options.StreamReplayItems}");

    // The key's layout and the release of the response type's assembly: an upgrade that changes either never reads
    // older entries. A stream and a response of one request have one key, so the stored type is part of the version too.
    private static string CacheVersion { get; } = ComputeCacheVersion(typeof(ChatResponse));

    private static string StreamCacheVersion { get; } = ComputeCacheVersion(typeof(ChatResponseUpdate[]));

    private static string ComputeCacheVersion(Type stored)
    {
        // The informational version ("10.11.0+commit") changes with every release; the assembly version stays 10.0.0.0.
        Assembly abstractions = typeof(ChatResponse).Assembly;
        string release = abstractions.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? abstractions.GetName().Version?.ToString() ?? "";
        string version = "LlmGuard.Extensions.AI|" + ChatRequestKey.Layout + "|" + stored.FullName + "|" + release;
        byte[] hash = SHA256.HashData(Encoding.UTF8.GetBytes(version));
        return Convert.ToHexString(hash, 0, 8).ToLowerInvariant();
    }

    // Each consumer's own copies: a shared stream hands every consumer the same update objects, and updates are mutable
    // (middleware above this one, or the caller, may rewrite an update's contents, or its usage as it adds it up) so,
    // as GetResponseAsync gives each caller its own ChatResponse, one consumer's changes must not reach the others.
    private static async IAsyncEnumerable<ChatResponseUpdate> CopyEach(
        IAsyncEnumerable<ChatResponseUpdate> shared, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (ChatResponseUpdate update in shared.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return Copy(update);
        }
    }

    private static ChatResponseUpdate Copy(ChatResponseUpdate shared)
    {
        ChatResponseUpdate copy = shared.Clone();
        var contents = new List<AIContent>(shared.Contents.Count);
        foreach (AIContent content in shared.Contents)
        {
            // Usage is the one content consumers are expected to add to (summing a stream's usage), so it is copied too.
            contents.Add(content is UsageContent usage ? CopyUsage(usage) : content);
        }

        copy.Contents = contents;
        copy.AdditionalProperties = shared.AdditionalProperties?.Clone();
        return copy;
    }

    private static UsageContent CopyUsage(UsageContent shared)
    {
        var details = new UsageDetails();
        details.Add(shared.Details);
        return new UsageContent(details)
        {
            AdditionalProperties = shared.AdditionalProperties?.Clone(),
            Annotations = shared.Annotations,
            RawRepresentation = shared.RawRepresentation,
        };
    }

    // The fallback's response, streamed as the updates it is made of; it answers only before a first update arrived.
    // Its updates are shared by the consumers like the inner client's, and copied for each by CopyEach in the same way.
    private static async IAsyncEnumerable<ChatResponseUpdate> StreamFallbackAsync(
        ChatRequest request, Exception failure, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ChatResponse response = await request.Fallback!(request.Messages, failure, cancellationToken).ConfigureAwait(false);
        foreach (ChatResponseUpdate update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
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

    /// <summary>What the clients of one scene and set of settings share: the requests in flight of each kind.</summary>
    internal sealed record ChatClientMethods(GuardedMethod<ChatResponse> Response, GuardedStreamMethod<ChatResponseUpdate> Stream);

    private readonly record struct ChatRequest(
        IChatClient Inner,
        ChatMessage[] Messages,
        ChatOptions? Options,
        Func<IReadOnlyList<ChatMessage>, Exception, CancellationToken, ValueTask<ChatResponse>>? Fallback);
}
