using System;
using System.Collections.Generic;
using System.Numerics.Tensors;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;

namespace LlmGuard.Tests.Caching;

/// <summary>
/// A deterministic stand-in for an embedding model: each lower-cased word (letters, digits and apostrophes, so
/// "don't" is one word) is hashed into one of <see cref="Dimensions"/> slots, and the counts are normalised. Two
/// texts' cosine similarity is then the share of their words, which tests can work out by hand: 3 shared words of 3
/// and 4 is 3 / √12 ≈ 0.866. It counts its calls, and <see cref="BeforeEmbedding"/> lets a test fail or hold one.
/// </summary>
internal sealed class BagOfWordsEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    public const int Dimensions = 1024;

    private int _calls;

    /// <summary>Gets how many texts were embedded (or asked to be).</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Gets or sets what runs before each text is embedded: a test throws or waits here.</summary>
    public Func<string, CancellationToken, Task>? BeforeEmbedding { get; set; }

    public static float[] Embed(string text)
    {
        var vector = new float[Dimensions];
        int start = -1;
        for (int i = 0; i <= text.Length; i++)
        {
            bool inWord = i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '\'');
            if (inWord && start < 0)
            {
                start = i;
            }
            else if (!inWord && start >= 0)
            {
                vector[Slot(text.AsSpan(start, i - start))]++;
                start = -1;
            }
        }

        float norm = TensorPrimitives.Norm(vector);
        if (norm > 0)
        {
            TensorPrimitives.Divide(vector, norm, vector);
        }

        return vector;
    }

    public static float Similarity(string first, string second) => TensorPrimitives.CosineSimilarity(Embed(first), Embed(second));

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values,
        EmbeddingGenerationOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var embeddings = new GeneratedEmbeddings<Embedding<float>>();
        foreach (string value in values)
        {
            Interlocked.Increment(ref _calls);
            if (BeforeEmbedding is { } before)
            {
                await before(value, cancellationToken);
            }

            embeddings.Add(new Embedding<float>(Embed(value)));
        }

        return embeddings;
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is null && serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    // FNV-1a over the lower-cased characters: the same word always lands in the same slot.
    private static int Slot(ReadOnlySpan<char> word)
    {
        uint hash = 2166136261;
        foreach (char c in word)
        {
            hash = (hash ^ char.ToLowerInvariant(c)) * 16777619;
        }

        return (int)(hash % Dimensions);
    }
}
