using System;
using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Caching.Hybrid;

namespace LlmGuard.Caching;

/// <summary>
/// Serializes the answers cached methods store in <see cref="HybridCache"/> with the System.Text.Json type information
/// the application supplies, typically a source-generated <c>JsonSerializerContext</c>, so a distributed cache works
/// without reflection and in native AOT.
/// </summary>
/// <remarks>
/// Register it with <c>services.AddHybridCache().AddSerializerFactory(new LlmGuardCacheSerializerFactory(AppJsonContext.Default))</c>,
/// where the context lists each cached method's result type. Answers whose result type the resolver does not know are
/// left to the cache's other serializers. Only a distributed (second-level) cache serializes: the in-memory level keeps
/// the stored answer as it is.
/// </remarks>
public sealed class LlmGuardCacheSerializerFactory : IHybridCacheSerializerFactory
{
    private readonly JsonSerializerOptions _options;

    /// <summary>Creates a factory that serializes cached results with the type information of <paramref name="typeInfoResolver"/>.</summary>
    /// <param name="typeInfoResolver">Type information for the result types of the cached methods, e.g. a source-generated <c>JsonSerializerContext</c>.</param>
    public LlmGuardCacheSerializerFactory(IJsonTypeInfoResolver typeInfoResolver)
    {
        ArgumentNullException.ThrowIfNull(typeInfoResolver);
        _options = new JsonSerializerOptions { TypeInfoResolver = typeInfoResolver };
        _options.MakeReadOnly();
    }

    /// <inheritdoc />
    public bool TryCreateSerializer<T>([NotNullWhen(true)] out IHybridCacheSerializer<T>? serializer)
    {
        serializer = CachedAnswerSerializers<T>.Create?.Invoke(_options);
        return serializer is not null;
    }
}

/// <summary>
/// How to serialize the cache entry type <typeparamref name="TEntry"/>, set by the first <see cref="ResultCache{TResult}"/>
/// of that entry type: the factory sees only <typeparamref name="TEntry"/>, and finding its result type without
/// reflection needs the cache, which knows it, to have said so first.
/// </summary>
internal static class CachedAnswerSerializers<TEntry>
{
    public static Func<JsonSerializerOptions, IHybridCacheSerializer<TEntry>?>? Create;
}

/// <summary>
/// An entry as <c>{"tokens":n,"trace":"00-…","value":…}</c>: the value written with the application's type information,
/// the W3C trace context of the execution that produced it only when one was traced.
/// </summary>
internal sealed class CachedAnswerSerializer<TResult>(JsonTypeInfo<TResult> valueInfo) : IHybridCacheSerializer<CachedAnswer<TResult>>
{
    private static readonly JsonEncodedText s_tokens = JsonEncodedText.Encode("tokens");
    private static readonly JsonEncodedText s_trace = JsonEncodedText.Encode("trace");
    private static readonly JsonEncodedText s_value = JsonEncodedText.Encode("value");

    /// <summary>Makes <see cref="LlmGuardCacheSerializerFactory"/> serialize <see cref="CachedAnswer{TResult}"/> entries.</summary>
    public static void Register() =>
        CachedAnswerSerializers<CachedAnswer<TResult>>.Create ??= static options =>
            options.TryGetTypeInfo(typeof(TResult), out JsonTypeInfo? info) && info is JsonTypeInfo<TResult> valueInfo
                ? new CachedAnswerSerializer<TResult>(valueInfo)
                : null;

    public void Serialize(CachedAnswer<TResult> value, IBufferWriter<byte> target)
    {
        using var writer = new Utf8JsonWriter(target);
        writer.WriteStartObject();
        writer.WriteNumber(s_tokens, value.Tokens);
        if (value.Origin != default)
        {
            ActivityContext origin = value.Origin;
            writer.WriteString(s_trace, $"00-{origin.TraceId.ToHexString()}-{origin.SpanId.ToHexString()}-{(int)origin.TraceFlags:x2}");
        }

        writer.WritePropertyName(s_value);
        JsonSerializer.Serialize(writer, value.Value, valueInfo);
        writer.WriteEndObject();
    }

    public CachedAnswer<TResult> Deserialize(ReadOnlySequence<byte> source)
    {
        var reader = new Utf8JsonReader(source);
        Expect(reader.Read() && reader.TokenType == JsonTokenType.StartObject);
        long tokens = 0;
        ActivityContext origin = default;
        TResult value = default!;
        bool hasValue = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals(s_tokens.EncodedUtf8Bytes))
            {
                Expect(reader.Read());
                tokens = reader.GetInt64();
            }
            else if (reader.ValueTextEquals(s_trace.EncodedUtf8Bytes))
            {
                Expect(reader.Read());
                ActivityContext.TryParse(reader.GetString(), traceState: null, out origin);
            }
            else if (reader.ValueTextEquals(s_value.EncodedUtf8Bytes))
            {
                Expect(reader.Read());
                value = JsonSerializer.Deserialize(ref reader, valueInfo)!;
                hasValue = true;
            }
            else
            {
                Expect(reader.Read());
                reader.Skip();
            }
        }

        Expect(hasValue && reader.TokenType == JsonTokenType.EndObject);
        return new CachedAnswer<TResult>(value, tokens) { Origin = origin };
    }

    private static void Expect(bool condition)
    {
        if (!condition)
        {
            throw new JsonException($"The cached entry is not an LlmGuard answer of {typeof(TResult).Name}.");
        }
    }
}
