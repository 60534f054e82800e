using System;
using System.Collections.Generic;

namespace LlmGuard.Infrastructure;

/// <summary>
/// Combines the values of a <see cref="MergeAppendAttribute">[MergeAppend]</see> parameter from merged calls,
/// earlier calls first. A <see langword="null"/> value contributes nothing.
/// </summary>
public static class MergedValues
{
    /// <summary>Joins two strings with <paramref name="separator"/>.</summary>
    /// <param name="earlier">The value merged so far.</param>
    /// <param name="later">The value of the call that joined later.</param>
    /// <param name="separator">The text placed between them.</param>
    /// <returns>Both values in arrival order.</returns>
    public static string? Append(string? earlier, string? later, string separator) =>
        earlier is null ? later : later is null ? earlier : string.Concat(earlier, separator, later);

    /// <summary>Concatenates two arrays.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="earlier">The values merged so far.</param>
    /// <param name="later">The values of the call that joined later.</param>
    /// <returns>A new array with every element in arrival order.</returns>
    public static T[]? Append<T>(T[]? earlier, T[]? later)
    {
        if (earlier is null || later is null)
        {
            return earlier ?? later;
        }

        var all = new T[earlier.Length + later.Length];
        earlier.CopyTo(all, 0);
        later.CopyTo(all, earlier.Length);
        return all;
    }

    /// <summary>Concatenates two sequences into a new list, which serves every list and collection interface.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="earlier">The values merged so far.</param>
    /// <param name="later">The values of the call that joined later.</param>
    /// <returns>A new list with every element in arrival order.</returns>
    public static List<T>? AppendToList<T>(IEnumerable<T>? earlier, IEnumerable<T>? later)
    {
        if (earlier is null && later is null)
        {
            return null;
        }

        var all = new List<T>();
        all.AddRange(earlier ?? Array.Empty<T>());
        all.AddRange(later ?? Array.Empty<T>());
        return all;
    }
}
