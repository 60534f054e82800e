using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using LlmGuard.Infrastructure;

namespace LlmGuard.Tests.Infrastructure;

public sealed class GuardKeyBuilderTests
{
    // What the generator passes for the template "{a}:{b}".
    private const string Reserved = "\\∅:";

    private static string Render(string? a, string? b)
    {
        var key = new GuardKeyBuilder(stackalloc char[8], Reserved);
        key.AppendLiteral("scene:");
        key.AppendValue(a);
        key.AppendLiteral(":");
        key.AppendValue(b);
        return key.ToStringAndClear();
    }

    [Fact]
    public void Null_renders_as_a_marker_distinct_from_the_empty_string_and_from_the_marker_character()
    {
        Assert.Equal("scene:∅:", Render(null, string.Empty));
        Assert.NotEqual(Render(null, "x"), Render(string.Empty, "x"));
        Assert.NotEqual(Render(null, "x"), Render("∅", "x"));
    }

    [Fact]
    public void Reserved_characters_in_values_are_escaped_and_literal_text_is_kept()
    {
        Assert.Equal("scene:a\\:b:c", Render("a:b", "c"));
        Assert.Equal("scene:a\\\\:\\∅", Render("a\\", "∅"));
    }

    [Fact]
    public void Different_argument_pairs_never_render_the_same_key()
    {
        // Seeded, so a failure is reproducible; the alphabet is mostly the characters that could collide.
        var random = new Random(20261121);
        string?[] pool = Enumerable.Range(0, 400).Select(_ => RandomValue(random)).Append(null).Append(string.Empty).ToArray();
        var seen = new Dictionary<string, (string?, string?)>();

        foreach (string? a in pool.Take(120))
        {
            foreach (string? b in pool.Skip(120).Take(120))
            {
                string key = Render(a, b);
                if (seen.TryGetValue(key, out (string?, string?) other))
                {
                    Assert.Equal(other, (a, b));
                }

                seen[key] = (a, b);
            }
        }
    }

    [Fact]
    public void Long_keys_grow_beyond_the_initial_buffer()
    {
        string longValue = new('x', 1000);
        Assert.Equal("scene:" + longValue + ":y", Render(longValue, "y"));
    }

    [Fact]
    public void Values_are_formatted_with_the_invariant_culture_whatever_the_current_culture()
    {
        CultureInfo previous = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = new CultureInfo("de-DE");
        try
        {
            var key = new GuardKeyBuilder(stackalloc char[32], "\\∅/");
            key.AppendSpanFormattable(1234.5);
            key.AppendLiteral("/");
            key.AppendSpanFormattable((int?)null);
            key.AppendLiteral("/");
            key.AppendSpanFormattable(new DateTime(2026, 11, 21, 8, 30, 0, 123, DateTimeKind.Utc), "O");
            key.AppendLiteral("/");
            key.AppendFormattable((decimal?)2.50m);
            Assert.Equal("1234.5/∅/2026-11-21T08:30:00.1230000Z/2.50", key.ToStringAndClear());
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    private static string RandomValue(Random random)
    {
        const string alphabet = "ab:\\∅";
        char[] chars = new char[random.Next(0, 5)];
        for (int i = 0; i < chars.Length; i++)
        {
            chars[i] = alphabet[random.Next(alphabet.Length)];
        }

        return new string(chars);
    }
}
