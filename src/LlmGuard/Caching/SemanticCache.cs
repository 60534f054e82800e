using System;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace LlmGuard.Caching;

/// <summary>
/// The semantic cache of one cached method under one policy: embeds a call's marked text and finds a stored answer
/// of a similar text in the call's scope, and stores the answers of successful executions.
/// </summary>
/// <remarks>
/// It runs inside the execution, after the exact cache missed, so the callers that share an execution share its one
/// embedding call too.
/// </remarks>
/// <typeparam name="TResult">The guarded method's result.</typeparam>
internal sealed class SemanticCache<TResult>
{
    private readonly IEmbeddingGenerator<string, Embedding<float>> _generator;
    private readonly TimeProvider _clock;
    private readonly string _scene;
    private readonly float _threshold;
    private readonly long _lifetimeTicks;
    private readonly TimeSpan _embeddingTimeout;

    /// <summary>Creates the semantic cache of a method's policy.</summary>
    /// <param name="generator">The runtime's embedding generator.</param>
    /// <param name="store">The method's entries, kept across policies so a reload does not empty them.</param>
    /// <param name="clock">The runtime's clock, which entries expire on.</param>
    /// <param name="scene">The method's scene, for the logs.</param>
    /// <param name="threshold">The lowest cosine similarity that serves a stored answer.</param>
    /// <param name="seconds">How long a stored answer is served, as the exact cache keeps it.</param>
    /// <param name="embeddingTimeoutMs">The per-attempt timeout, which bounds the embedding call too; 0 for none.</param>
    public SemanticCache(
        IEmbeddingGenerator<string, Embedding<float>> generator,
        SemanticStore<TResult> store,
        TimeProvider clock,
        string scene,
        double threshold,
        int seconds,
        int embeddingTimeoutMs)
    {
        _generator = generator;
        Store = store;
        _clock = clock;
        _scene = scene;
        _threshold = (float)threshold;
        _lifetimeTicks = TimeSpan.FromSeconds(seconds).Ticks;
        _embeddingTimeout = embeddingTimeoutMs > 0 ? TimeSpan.FromMilliseconds(embeddingTimeoutMs) : Timeout.InfiniteTimeSpan;
    }

    public SemanticStore<TResult> Store { get; }

    /// <summary>
    /// Embeds the call's text and looks for a stored answer of a similar text in its scope. A failing or slow embedding
    /// call is a miss without an embedding: the execution runs the core and stores nothing here.
    /// </summary>
    /// <param name="query">The call's scope and text.</param>
    /// <param name="logger">Where an embedding failure is logged; <see langword="null"/> when nothing is.</param>
    /// <param name="executionToken">Cancelled when every caller of the execution left.</param>
    public async ValueTask<CacheLookup<TResult>> LookupAsync(SemanticQuery query, ILogger? logger, CancellationToken executionToken)
    {
        if (string.IsNullOrEmpty(query.Text))
        {
            return CacheLookup<TResult>.Miss(default);
        }

        ReadOnlyMemory<float> embedding;

        // On the runtime's clock, as the attempts' timeout is; without one, only the callers' leaving stops the call.
        using CancellationTokenSource? timeout = _embeddingTimeout == Timeout.InfiniteTimeSpan ? null : new CancellationTokenSource(_embeddingTimeout, _clock);
        using CancellationTokenSource? linked = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(executionToken, timeout.Token);
        try
        {
            embedding = await _generator.GenerateVectorAsync(query.Text, options: null, linked?.Token ?? executionToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (!executionToken.IsCancellationRequested)
        {
            // The cache saves a model call; it never costs the caller an answer the core could give.
            if (logger is not null)
            {
                SemanticCacheLog.EmbeddingFailed(logger, _scene, exception);
            }

            return CacheLookup<TResult>.Miss(default);
        }

        long now = _clock.GetUtcNow().UtcTicks;
        return Store.Find(query.Scope, embedding.Span, _threshold, now) is { } entry
            ? CacheLookup<TResult>.Hit(entry.Value, entry.Tokens)
            : CacheLookup<TResult>.Miss(embedding);
    }

    /// <summary>Stores a successful answer under the embedding its lookup computed; nothing when there is none.</summary>
    public void Add(SemanticQuery query, ReadOnlyMemory<float> embedding, TResult value, long tokens)
    {
        if (embedding.IsEmpty)
        {
            return;
        }

        long now = _clock.GetUtcNow().UtcTicks;
        Store.Add(query.Scope, embedding, value, tokens, now + _lifetimeTicks, now);
    }
}
