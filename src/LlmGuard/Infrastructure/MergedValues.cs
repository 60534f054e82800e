using System;
using System.Collections.Generic;
using System.Text;

namespace LlmGuard.Infrastructure;

/// <summary>
/// Combines the values of a <see cref="MergeAppendAttribute">[MergeAppend]</see> parameter from the calls a merge
/// window merged, once, at its close, in arrival order. A <see langword="null"/> value contributes nothing.
/// </summary>
public static class MergedValues
{
    /// <summary>Joins the strings of every call with <paramref name="separator"/>.</summary>
    /// <typeparam name="TCall">The arguments of one call.</typeparam>
    /// <param name="calls">The merged calls, earlier first.</param>
    /// <param name="value">Reads the parameter's value from a call.</param>
    /// <param name="separator">The text placed between two values.</param>
    /// <returns>Every value in arrival order; <see langword="null"/> when every call passed <see langword="null"/>.</returns>
    public static string? Join<TCall>(IReadOnlyList<TCall> calls, Func<TCall, string?> value, string separator)
    {
        ArgumentNullException.ThrowIfNull(calls);
        ArgumentNullException.ThrowIfNull(value);
        StringBuilder? joined = null;
        string? only = null;
        for (int i = 0; i < calls.Count; i++)
        {
            string? next = value(calls[i]);
            if (next is null)
            {
                continue;
            }

            if (only is null)
            {
                only = next;
            }
            else
            {
                joined ??= new StringBuilder(only);
                joined.Append(separator).Append(next);
            }
        }

        return joined?.ToString() ?? only;
    }

    /// <summary>Concatenates the arrays of every call.</summary>
    /// <typeparam name="TCall">The arguments of one call.</typeparam>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="calls">The merged calls, earlier first.</param>
    /// <param name="values">Reads the parameter's value from a call.</param>
    /// <returns>A new array with every element in arrival order; <see langword="null"/> when every call passed <see langword="null"/>.</returns>
    public static T[]? Concat<TCall, T>(IReadOnlyList<TCall> calls, Func<TCall, T[]?> values)
    {
        ArgumentNullException.ThrowIfNull(calls);
        ArgumentNullException.ThrowIfNull(values);
        int length = 0;
        bool any = false;
        for (int i = 0; i < calls.Count; i++)
        {
            if (values(calls[i]) is { } array)
            {
                length += array.Length;
                any = true;
            }
        }

        if (!any)
        {
            return null;
        }

        var all = new T[length];
        int at = 0;
        for (int i = 0; i < calls.Count; i++)
        {
            if (values(calls[i]) is { } array)
            {
                array.CopyTo(all, at);
                at += array.Length;
            }
        }

        return all;
    }

    /// <summary>Concatenates the sequences of every call into a new list, which serves every list and collection interface.</summary>
    /// <typeparam name="TCall">The arguments of one call.</typeparam>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="calls">The merged calls, earlier first.</param>
    /// <param name="values">Reads the parameter's value from a call.</param>
    /// <returns>A new list with every element in arrival order; <see langword="null"/> when every call passed <see langword="null"/>.</returns>
    public static List<T>? ConcatToList<TCall, T>(IReadOnlyList<TCall> calls, Func<TCall, IEnumerable<T>?> values)
    {
        ArgumentNullException.ThrowIfNull(calls);
        ArgumentNullException.ThrowIfNull(values);
        List<T>? all = null;
        for (int i = 0; i < calls.Count; i++)
        {
            if (values(calls[i]) is { } sequence)
            {
                (all ??= new List<T>()).AddRange(sequence);
            }
        }

        return all;
    }
}
