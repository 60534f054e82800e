using System.Collections.Generic;
using System.Collections.Immutable;
using System.Text;

namespace LlmGuard.Generators.Parsing;

/// <summary>
/// One piece of a key template: literal text, a placeholder naming a parameter and a member chain of it, or a
/// call-context placeholder such as <c>{$tenant}</c>.
/// </summary>
internal readonly struct KeyTemplatePart
{
    private KeyTemplatePart(string literal, ImmutableArray<string> path, string? contextName)
    {
        Literal = literal;
        Path = path;
        ContextName = contextName;
    }

    public string Literal { get; }

    /// <summary>The parameter name followed by member names; empty for literal text and call-context placeholders.</summary>
    public ImmutableArray<string> Path { get; }

    /// <summary>What follows the <c>$</c> of a call-context placeholder, as written; null for every other part.</summary>
    public string? ContextName { get; }

    /// <summary>Whether the part names a parameter.</summary>
    public bool IsPlaceholder => !Path.IsDefaultOrEmpty;

    public bool IsContextPlaceholder => ContextName is not null;

    public static KeyTemplatePart ForLiteral(string text) => new(text, ImmutableArray<string>.Empty, null);

    public static KeyTemplatePart ForPlaceholder(ImmutableArray<string> path) => new(string.Empty, path, null);

    public static KeyTemplatePart ForContext(string name) => new(string.Empty, ImmutableArray<string>.Empty, name);
}

/// <summary>Parses key templates such as <c>{req.UserId}:{req.SessionId}</c>. Never throws: errors are returned as text.</summary>
internal static class KeyTemplate
{
    public const char EscapeCharacter = '\\';
    public const char NullMarker = '∅';

    /// <summary>The call-context placeholders, as the error for an unknown one lists them.</summary>
    public const string ContextPlaceholders = "{$tenant}, {$user}, {$conversation}, {$module}";

    /// <summary>
    /// The <c>LlmCallContext</c> property a call-context placeholder reads (<c>tenant</c> → <c>Tenant</c>), or null
    /// when there is no such placeholder. Names are case-sensitive, as parameter names are.
    /// </summary>
    public static string? ContextProperty(string name) => name switch
    {
        "tenant" => "Tenant",
        "user" => "User",
        "conversation" => "Conversation",
        "module" => "Module",
        _ => null,
    };

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
                // '$' cannot start a C# identifier, so {$...} never shadows a parameter; whether the name after it
                // is a known one is the caller's check, which reports it as its own diagnostic.
                bool context = content.Length > 0 && content[0] == '$';
                ImmutableArray<string> path = default;
                if (!context && !TryParsePath(content, out path))
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

                parts.Add(context ? KeyTemplatePart.ForContext(content.Substring(1)) : KeyTemplatePart.ForPlaceholder(path));
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
