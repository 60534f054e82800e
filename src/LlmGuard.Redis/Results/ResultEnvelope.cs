using System;
using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace LlmGuard.Redis.Results;

/// <summary>
/// The stored form of a leader's outcome: <c>{"status":"ok","owner":"…","value":…}</c>, or <c>failed</c> /
/// <c>abandoned</c> without a value. Readable with <c>redis-cli GET</c>.
/// </summary>
/// <remarks>
/// <c>owner</c> is the id the leader's lease holds in Redis. A follower takes a result only while the lease holds that
/// id or nobody holds it, so the result an earlier execution left is never mistaken for the current leader's.
/// </remarks>
internal static class ResultEnvelope
{
    private const string Ok = "ok";
    private const string FailedStatus = "failed";
    private const string AbandonedStatus = "abandoned";

    public static byte[] Write<T>(FlightOutcome outcome, string owner, T? value, JsonTypeInfo<T> typeInfo)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("status", outcome switch
            {
                FlightOutcome.Succeeded => Ok,
                FlightOutcome.Failed => FailedStatus,
                FlightOutcome.Abandoned => AbandonedStatus,
                _ => throw new ArgumentOutOfRangeException(nameof(outcome), outcome, "Only a leader's outcomes are stored."),
            });
            writer.WriteString("owner", owner);
            if (outcome == FlightOutcome.Succeeded)
            {
                writer.WritePropertyName("value");
                JsonSerializer.Serialize(writer, value!, typeInfo);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads an envelope, its value only when <paramref name="isCurrent"/> accepts its owner.</summary>
    /// <returns>The outcome, or <see langword="null"/> when it is not the current leader's.</returns>
    /// <exception cref="JsonException">The payload is not an envelope, or the current leader's value is not a <typeparamref name="T"/>.</exception>
    /// <remarks>The owner is read first: another execution's outcome, even one this version cannot read, is skipped, not unreadable.</remarks>
    public static FollowerLook<T>? Read<T>(byte[] payload, JsonTypeInfo<T> typeInfo, Func<string?, bool> isCurrent)
    {
        using JsonDocument document = JsonDocument.Parse(payload);
        JsonElement root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("status", out JsonElement status)
            || !root.TryGetProperty("owner", out JsonElement owner)
            || owner.ValueKind != JsonValueKind.String)
        {
            throw new JsonException("The stored result is not an LlmGuard.Redis result envelope.");
        }

        if (!isCurrent(owner.GetString()))
        {
            return null;
        }

        return status.GetString() switch
        {
            Ok when root.TryGetProperty("value", out JsonElement value) => new FollowerLook<T>(FlightOutcome.Succeeded, value.Deserialize(typeInfo)),
            FailedStatus => new FollowerLook<T>(FlightOutcome.Failed, default),
            AbandonedStatus => new FollowerLook<T>(FlightOutcome.Abandoned, default),
            _ => throw new JsonException("The stored result has an unknown status."),
        };
    }
}
