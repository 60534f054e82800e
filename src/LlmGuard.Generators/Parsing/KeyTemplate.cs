using System.Collections.Generic;
using System.Collections.Immutable;
using System.Text;

namespace LlmGuard.Generators.Parsing;

/// <summary>One piece of a key template: literal text, or a placeholder naming a parameter and a member chain of it.</summary>
internal readonly struct KeyTemplatePart
{
    private KeyTemplatePart(string literal, ImmutableArray<string> path)
    {
        Literal = literal;
        Path = path;
    }

    public string Literal { get; }

    /// <summary>The parameter name followed by member names; empty for literal text.</summary>
    public ImmutableArray<string> Path { get; }

    public bool IsPlaceholder => !Path.IsDefaultOrEmpty;

    public static KeyTemplatePart ForLiteral(string text) => new(text, ImmutableArray<string>.Empty);

    public static KeyTemplatePart ForPlaceholder(ImmutableArray<string> path) => new(string.Empty, path);
}

/// <summary>Parses key templates such as <c>{req.UserId}:{req.SessionId}</c>. Never throws: errors are returned as text.</summary>
internal static class KeyTemplate
{
    public const char EscapeCharacter = '\\';
    public const char NullMarker = '∅';

    public static ImmutableArray<KeyTemplatePart> Parse(string template, out string? error)
    {
        var parts = ImmutableArray.CreateBuilder<KeyTemplatePart>();
        var literal = new StringBuilder();
        string? previousPlaceholder = null;
        int i = 0;
        while (i < template.Length)
        {
            char c = template[i];
            if (c == '{' && i + 1 < template.Length && template[i + 1] == '{')
            {
                literal.Append('{');
                i += 2;
            }
            else if (c == '}' && i + 1 < template.Length && template[i + 1] == '}')
            {
                literal.Append('}');
                i += 2;
            }
            else if (c == '}')
            {
                error = $"'}}' at position {i} has no matching '{{' (write '}}}}' for a literal brace)";
                return default;
            }
            else if (c == '{')
            {
                int close = template.IndexOf('}', i + 1);
                if (close < 0)
                {
                    error = $"'{{' at position {i} is never closed (write '{{{{' for a literal brace)";
                    return default;
                }

                string content = template.Substring(i + 1, close - i - 1);
                string placeholder = "{" + content + "}";
                if (!TryParsePath(content, out ImmutableArray<string> path))
                {
                    error = content.Length == 0
                        ? $"'{{}}' at position {i} is empty; name a parameter, as in {{userId}}"
                        : $"'{placeholder}' is not a parameter name or member chain such as {{request.UserId}}";
                    return default;
                }

                if (literal.Length > 0)
                {
                    parts.Add(KeyTemplatePart.ForLiteral(literal.ToString()));
                    literal.Clear();
                }
                else if (previousPlaceholder is not null)
                {
                    error = $"'{previousPlaceholder}' and '{placeholder}' stand side by side; put literal text between them, so that different values cannot render the same key";
                    return default;
                }

                parts.Add(KeyTemplatePart.ForPlaceholder(path));
                previousPlaceholder = placeholder;
                i = close + 1;
            }
            else if (c is EscapeCharacter or NullMarker)
            {
                error = c == EscapeCharacter
                    ? "the literal text contains '\\', which is reserved for escaping values"
                    : "the literal text contains '∅', which is reserved for null values";
                return default;
            }
            else
            {
                literal.Append(c);
                i++;
            }
        }

        if (literal.Length > 0)
        {
            parts.Add(KeyTemplatePart.ForLiteral(literal.ToString()));
        }

        error = null;
        return parts.ToImmutable();
    }

    /// <summary>Characters a value must escape: the escape character, the null marker and every literal character.</summary>
    public static string ReservedCharacters(IEnumerable<KeyTemplatePart> parts)
    {
        var reserved = new StringBuilder().Append(EscapeCharacter).Append(NullMarker);
        foreach (KeyTemplatePart part in parts)
        {
            foreach (char c in part.Literal)
            {
                if (reserved.ToString().IndexOf(c) < 0)
                {
                    reserved.Append(c);
                }
            }
        }

        return reserved.ToString();
    }

    private static bool TryParsePath(string content, out ImmutableArray<string> path)
    {
        path = default;
        if (content.Length == 0)
        {
            return false;
        }

        var names = ImmutableArray.CreateBuilder<string>();
        foreach (string segment in content.Split('.'))
        {
            string name = segment.Length > 0 && segment[0] == '@' ? segment.Substring(1) : segment;
            if (!IsIdentifier(name))
            {
                return false;
            }

            names.Add(name);
        }

        path = names.ToImmutable();
        return true;
    }

    private static bool IsIdentifier(string name)
    {
        if (name.Length == 0 || !(char.IsLetter(name[0]) || name[0] == '_'))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsLetterOrDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }
}
