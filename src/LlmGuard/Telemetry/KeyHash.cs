using System;
using System.Security.Cryptography;
using System.Text;

namespace LlmGuard.Telemetry;

/// <summary>
/// The form in which a guard key appears in logs: keys are built from arguments and prompts, which logs must never
/// carry, yet an operator needs to see that two log lines are about the same key.
/// </summary>
internal static class KeyHash
{
    // The first 8 hex digits of SHA-256: stable across processes and versions (unlike string.GetHashCode), one-way,
    // and short enough to read; a collision between two keys only merges two lines of a search, never two calls.
    public static string Of(string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(key), hash);
        return Convert.ToHexString(hash[..4]).ToLowerInvariant();
    }
}
