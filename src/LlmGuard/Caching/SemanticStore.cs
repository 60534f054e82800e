using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Numerics.Tensors;
using System.Threading;

namespace LlmGuard.Caching;

/// <summary>
/// The semantic cache's entries of one cached method on one runtime: embeddings of answered texts with their answers,
/// grouped by scope, bounded in number, each kept until it expires.
/// </summary>
/// <remarks>
/// <para>
/// Lookups run on every semantic miss of the exact cache and take no lock: each scope publishes an immutable array of
/// its entries, which an add replaces. Adds happen once per successful execution (a model call), so they copy the
/// scope's array under one lock, drop the scope's expired entries while copying, and evict the oldest entries of the
/// whole store beyond its bound.
/// </para>
/// <para>
/// Not <c>Microsoft.Extensions.VectorData</c>: its collections map records through their CLR properties and filter
/// with LINQ expression trees, neither of which a native AOT app can count on, and it has no notion of an entry's
/// lifetime or of a bound with eviction, which are the two things a cache needs. A scope here is an exact string
/// match, so a dictionary replaces the filter.
/// </para>
/// </remarks>
/// <typeparam name="TResult">The guarded method's result.</typeparam>
internal sealed class SemanticStore<TResult>
{
    private readonly object _writeGate = new();
    private readonly ConcurrentDictionary<string, Scope> _scopes = new(StringComparer.Ordinal);

    // Every entry in the order it was added, oldest first; entries already dropped stay until they reach the head.
    private readonly Queue<Entry> _order = new();
    private int _count;
    private volatile int _maxEntries;

    public SemanticStore(int maxEntries)
    {
        _maxEntries = maxEntries;
    }

    /// <summary>Gets or sets the most entries kept; lowering it evicts the excess at the next add.</summary>
    public int MaxEntries
    {
        get => _maxEntries;
        set => _maxEntries = value;
    }

    /// <summary>Gets the number of entries kept, expired ones not yet dropped included.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>
    /// Finds the unexpired entry of <paramref name="scope"/> whose embedding is the most similar to
    /// <paramref name="embedding"/>, if its cosine similarity is at least <paramref name="threshold"/>.
    /// </summary>
    /// <param name="scope">The call's key without its compared text.</param>
    /// <param name="embedding">The embedding of the call's text.</param>
    /// <param name="threshold">The lowest similarity that answers the call.</param>
    /// <param name="now">The current time, in UTC ticks of the runtime's clock.</param>
    /// <returns>The best entry, or <see langword="null"/> when none is similar enough.</returns>
    public Entry? Find(string scope, ReadOnlySpan<float> embedding, float threshold, long now)
    {
        if (!_scopes.TryGetValue(scope, out Scope? entries))
        {
            return null;
        }

        Entry? best = null;
        float bestSimilarity = threshold;
        foreach (Entry entry in entries.Entries)
        {
            // An entry from another embedding model (a changed configuration) cannot be compared, so it never answers.
            if (entry.ExpiresAt <= now || entry.Embedding.Length != embedding.Length)
            {
                continue;
            }

            // NaN (a zero vector) compares false, so it never answers either.
            float similarity = TensorPrimitives.CosineSimilarity(embedding, entry.Embedding.Span);
            if (similarity >= bestSimilarity && (best is null || similarity > bestSimilarity))
            {
                best = entry;
                bestSimilarity = similarity;
            }
        }

        return best;
    }

    /// <summary>Adds the answer of a text, then evicts the oldest entries beyond <see cref="MaxEntries"/>.</summary>
    /// <param name="scope">The call's key without its compared text.</param>
    /// <param name="embedding">The embedding of the call's text.</param>
    /// <param name="value">The successful answer.</param>
    /// <param name="tokens">The tokens the execution used, which a later hit counts as saved.</param>
    /// <param name="expiresAt">When the entry stops answering, in UTC ticks of the runtime's clock.</param>
    /// <param name="now">The current time, in UTC ticks of the runtime's clock.</param>
    public void Add(string scope, ReadOnlyMemory<float> embedding, TResult value, long tokens, long expiresAt, long now)
    {
        var added = new Entry(scope, embedding, value, tokens, expiresAt);
        lock (_writeGate)
        {
            Scope entries = _scopes.GetOrAdd(scope, static _ => new Scope());
            var kept = new List<Entry>(entries.Entries.Length + 1);
            foreach (Entry entry in entries.Entries)
            {
                if (entry.ExpiresAt > now)
                {
                    kept.Add(entry);
                }
                else
                {
                    entry.Dropped = true;
                    _count--;
                }
            }

            kept.Add(added);
            entries.Entries = kept.ToArray();
            _count++;
            _order.Enqueue(added);

            // Entries are added with the same lifetime, so the expired ones of other scopes are at the head too.
            while (_order.TryPeek(out Entry? oldest) && (oldest.Dropped || oldest.ExpiresAt <= now || _count > _maxEntries))
            {
                _order.Dequeue();
                if (!oldest.Dropped)
                {
                    Drop(oldest);
                }
            }

            // A lifetime shortened by a reload leaves dropped entries behind younger ones; they must not pile up.
            if (_order.Count > (2 * _maxEntries) + 16)
            {
                Entry[] pending = _order.ToArray();
                _order.Clear();
                foreach (Entry entry in pending)
                {
                    if (!entry.Dropped)
                    {
                        _order.Enqueue(entry);
                    }
                }
            }
        }
    }

    // Under the write lock.
    private void Drop(Entry entry)
    {
        entry.Dropped = true;
        _count--;
        if (!_scopes.TryGetValue(entry.Scope, out Scope? entries))
        {
            return;
        }

        Entry[] current = entries.Entries;
        if (current.Length == 1 && ReferenceEquals(current[0], entry))
        {
            _scopes.TryRemove(entry.Scope, out _);
            return;
        }

        var kept = new Entry[current.Length - 1];
        int next = 0;
        foreach (Entry other in current)
        {
            if (!ReferenceEquals(other, entry) && next < kept.Length)
            {
                kept[next++] = other;
            }
        }

        entries.Entries = kept;
    }

    /// <summary>One stored answer.</summary>
    internal sealed class Entry(string scope, ReadOnlyMemory<float> embedding, TResult value, long tokens, long expiresAt)
    {
        public string Scope { get; } = scope;

        public ReadOnlyMemory<float> Embedding { get; } = embedding;

        public TResult Value { get; } = value;

        public long Tokens { get; } = tokens;

        public long ExpiresAt { get; } = expiresAt;

        /// <summary>Gets or sets whether the entry left its scope; read and written under the store's write lock.</summary>
        public bool Dropped { get; set; }
    }

    private sealed class Scope
    {
        private volatile Entry[] _entries = Array.Empty<Entry>();

        public Entry[] Entries
        {
            get => _entries;
            set => _entries = value;
        }
    }
}
