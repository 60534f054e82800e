using System;
using System.Diagnostics.CodeAnalysis;
using System.Buffers;
using System.Globalization;

namespace LlmGuard.Infrastructure;

/// <summary>
/// Renders a guarded method's key: literal text as written, values culture-invariant and escaped, so that two
/// different argument lists never render the same key.
/// </summary>
/// <remarks>
/// A value's characters that could be read as part of the template's literal text (the reserved characters,
/// which always include <c>\</c> and <c>∅</c>) are escaped with <c>\</c>; <see langword="null"/> renders as
/// <c>∅</c>, which no escaped value can produce, so it differs from the empty string.
/// </remarks>
public ref struct GuardKeyBuilder
{
    /// <summary>The text a <see langword="null"/> value renders as.</summary>
    public const char NullMarker = '∅';

    private const char Escape = '\\';

    private readonly string _reserved;
    private char[]? _rented;
    private Span<char> _chars;
    private int _length;

    /// <summary>Creates a builder that writes into <paramref name="initialBuffer"/> and grows into pooled arrays.</summary>
    /// <param name="initialBuffer">Where to write first, usually stack memory.</param>
    /// <param name="reservedCharacters">The characters a value must escape: <c>\</c>, <c>∅</c> and every character of the template's literal text.</param>
    public GuardKeyBuilder(Span<char> initialBuffer, string reservedCharacters)
    {
        _chars = initialBuffer;
        _reserved = reservedCharacters;
        _rented = null;
        _length = 0;
    }

    /// <summary>Appends the template's literal text as it is.</summary>
    /// <param name="literal">Text from the template.</param>
    public void AppendLiteral(string literal) => AppendRaw(literal);

    /// <summary>Appends a value's text, escaped, or the null marker.</summary>
    /// <param name="value">The value's text.</param>
    public void AppendValue(string? value)
    {
        if (value is null)
        {
            AppendNull();
        }
        else
        {
            AppendEscaped(value);
        }
    }

    /// <summary>Appends a value formatted with the invariant culture, without boxing it.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="value">The value.</param>
    /// <param name="format">The format, or <see langword="null"/> for the type's default.</param>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Generated key builders are the only callers; the overloads differ by a struct constraint, which C# resolves without the optional format.")]
    public void AppendSpanFormattable<T>(T value, string? format = null)
        where T : ISpanFormattable
    {
        if (value is null)
        {
            AppendNull();
            return;
        }

        Span<char> formatted = stackalloc char[64];
        if (value.TryFormat(formatted, out int written, format, CultureInfo.InvariantCulture))
        {
            AppendEscaped(formatted[..written]);
        }
        else
        {
            AppendEscaped(value.ToString(format, CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Appends a nullable value formatted with the invariant culture, or the null marker.</summary>
    /// <typeparam name="T">The underlying value type.</typeparam>
    /// <param name="value">The value.</param>
    /// <param name="format">The format, or <see langword="null"/> for the type's default.</param>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Generated key builders are the only callers; the overloads differ by a struct constraint, which C# resolves without the optional format.")]
    public void AppendSpanFormattable<T>(T? value, string? format = null)
        where T : struct, ISpanFormattable
    {
        if (value.HasValue)
        {
            AppendSpanFormattable(value.GetValueOrDefault(), format);
        }
        else
        {
            AppendNull();
        }
    }

    /// <summary>Appends a value formatted with the invariant culture.</summary>
    /// <typeparam name="T">The value's type.</typeparam>
    /// <param name="value">The value.</param>
    /// <param name="format">The format, or <see langword="null"/> for the type's default.</param>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Generated key builders are the only callers; the overloads differ by a struct constraint, which C# resolves without the optional format.")]
    public void AppendFormattable<T>(T value, string? format = null)
        where T : IFormattable
        => AppendValue(value?.ToString(format, CultureInfo.InvariantCulture));

    /// <summary>Appends a nullable value formatted with the invariant culture, or the null marker.</summary>
    /// <typeparam name="T">The underlying value type.</typeparam>
    /// <param name="value">The value.</param>
    /// <param name="format">The format, or <see langword="null"/> for the type's default.</param>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Generated key builders are the only callers; the overloads differ by a struct constraint, which C# resolves without the optional format.")]
    public void AppendFormattable<T>(T? value, string? format = null)
        where T : struct, IFormattable
        => AppendValue(value?.ToString(format, CultureInfo.InvariantCulture));

    /// <summary>Returns the key and returns any pooled memory; the builder must not be used afterwards.</summary>
    /// <returns>The rendered key.</returns>
    public string ToStringAndClear()
    {
        string key = new(_chars[.._length]);
        char[]? rented = _rented;
        this = default;
        if (rented is not null)
        {
            ArrayPool<char>.Shared.Return(rented);
        }

        return key;
    }

    private void AppendNull() => AppendRaw([NullMarker]);

    private void AppendEscaped(scoped ReadOnlySpan<char> value)
    {
        int reserved;
        while ((reserved = value.IndexOfAny(_reserved)) >= 0)
        {
            AppendRaw(value[..reserved]);
            AppendRaw([Escape, value[reserved]]);
            value = value[(reserved + 1)..];
        }

        AppendRaw(value);
    }

    private void AppendRaw(scoped ReadOnlySpan<char> text)
    {
        if (_length + text.Length > _chars.Length)
        {
            Grow(text.Length);
        }

        text.CopyTo(_chars[_length..]);
        _length += text.Length;
    }

    private void Grow(int additional)
    {
        char[] larger = ArrayPool<char>.Shared.Rent(Math.Max(_chars.Length * 2, _length + additional));
        _chars[.._length].CopyTo(larger);
        char[]? previous = _rented;
        _chars = _rented = larger;
        if (previous is not null)
        {
            ArrayPool<char>.Shared.Return(previous);
        }
    }
}
