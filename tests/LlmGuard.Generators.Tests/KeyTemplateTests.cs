using System;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using LlmGuard.Generators.Parsing;

namespace LlmGuard.Generators.Tests;

/// <summary><see cref="KeyTemplate.Parse"/>: what it accepts, how it splits a template, and the errors it returns instead of throwing.</summary>
public sealed class KeyTemplateTests
{
    [Fact]
    public void Empty_template_has_no_parts()
    {
        ImmutableArray<KeyTemplatePart> parts = KeyTemplate.Parse(string.Empty, out string? error);

        Assert.Null(error);
        Assert.Empty(parts);
    }

    [Fact]
    public void Literal_text_is_one_literal_part()
    {
        Assert.Equal(new[] { "text:user:a b/c-d" }, Describe("user:a b/c-d"));
    }

    [Fact]
    public void Doubled_braces_are_literal_braces()
    {
        Assert.Equal(new[] { "text:{a}" }, Describe("{{a}}"));
        Assert.Equal(new[] { "text:{", "path:a", "text:}" }, Describe("{{{a}}}"));
        Assert.Equal(new[] { "path:a", "text:}" }, Describe("{a}}}"));
    }

    [Fact]
    public void Placeholders_and_literals_alternate_in_order()
    {
        Assert.Equal(new[] { "path:req.UserId", "text::", "path:req.SessionId" }, Describe("{req.UserId}:{req.SessionId}"));
        Assert.Equal(new[] { "text:user/", "path:id", "text:/end" }, Describe("user/{id}/end"));
    }

    [Fact]
    public void Member_chain_is_split_into_names()
    {
        ImmutableArray<KeyTemplatePart> parts = KeyTemplate.Parse("{a.B.c_1}", out string? error);

        Assert.Null(error);
        KeyTemplatePart part = Assert.Single(parts);
        Assert.True(part.IsPlaceholder);
        Assert.Equal(new[] { "a", "B", "c_1" }, part.Path);
        Assert.Equal(string.Empty, part.Literal);
    }

    [Fact]
    public void At_prefixed_names_lose_the_at_sign()
    {
        Assert.Equal(new[] { "path:class", "text:-", "path:req.event" }, Describe("{@class}-{req.@event}"));
    }

    [Fact]
    public void Underscores_digits_and_unicode_letters_make_names()
    {
        Assert.Equal(new[] { "path:_x1", "text::", "path:名前.Ä" }, Describe("{_x1}:{名前.Ä}"));
    }

    [Fact]
    public void Dollar_placeholders_are_call_context_parts_named_as_written()
    {
        Assert.Equal(new[] { "context:tenant", "text::", "path:id", "text:/", "context:user" }, Describe("{$tenant}:{id}/{$user}"));
        // Whether a name is known is the parser's caller's check (LLMG022), so unknown names still parse.
        Assert.Equal(new[] { "context:Tenant", "text:-", "context:", "text:-", "context:tenant.Id" }, Describe("{$Tenant}-{$}-{$tenant.Id}"));
    }

    [Fact]
    public void At_prefixed_names_still_name_parameters_not_the_call_context()
    {
        Assert.Equal(new[] { "path:class", "text::", "context:module" }, Describe("{@class}:{$module}"));
    }

    [Theory]
    [InlineData("tenant", "Tenant")]
    [InlineData("user", "User")]
    [InlineData("conversation", "Conversation")]
    [InlineData("module", "Module")]
    [InlineData("Tenant", null)]
    [InlineData("requestId", null)]
    [InlineData("", null)]
    public void Only_the_four_lower_case_context_names_map_to_a_property(string name, string? property)
    {
        Assert.Equal(property, KeyTemplate.ContextProperty(name));
    }

    [Theory]
    [InlineData("{a", "'{' at position 0 is never closed")]
    [InlineData("x{", "'{' at position 1 is never closed")]
    [InlineData("{{{", "'{' at position 2 is never closed")]
    [InlineData("a}", "'}' at position 1 has no matching '{'")]
    [InlineData("}", "'}' at position 0 has no matching '{'")]
    [InlineData("{a}}", "'}' at position 3 has no matching '{'")]
    [InlineData("{}", "'{}' at position 0 is empty")]
    [InlineData("x:{}", "'{}' at position 2 is empty")]
    [InlineData("{1a}", "'{1a}' is not a parameter name or member chain")]
    [InlineData("{a.}", "'{a.}' is not a parameter name or member chain")]
    [InlineData("{.a}", "'{.a}' is not a parameter name or member chain")]
    [InlineData("{a..b}", "'{a..b}' is not a parameter name or member chain")]
    [InlineData("{a b}", "'{a b}' is not a parameter name or member chain")]
    [InlineData("{a-b}", "'{a-b}' is not a parameter name or member chain")]
    [InlineData("{@}", "'{@}' is not a parameter name or member chain")]
    [InlineData("{@@a}", "'{@@a}' is not a parameter name or member chain")]
    [InlineData("{a{b}", "'{a{b}' is not a parameter name or member chain")]
    [InlineData("{a}{b}", "'{a}' and '{b}' stand side by side")]
    [InlineData("x{a}:{b}{c.D}", "'{b}' and '{c.D}' stand side by side")]
    [InlineData("{$tenant}{$user}", "'{$tenant}' and '{$user}' stand side by side")]
    [InlineData("{id}{$tenant}", "'{id}' and '{$tenant}' stand side by side")]
    [InlineData("a\\b", "contains '\\', which is reserved for escaping values")]
    [InlineData("{a}\\", "contains '\\', which is reserved for escaping values")]
    [InlineData("a∅b", "contains '∅', which is reserved for null values")]
    public void Invalid_template_returns_an_error_and_no_parts(string template, string phrase)
    {
        ImmutableArray<KeyTemplatePart> parts = KeyTemplate.Parse(template, out string? error);

        Assert.NotNull(error);
        Assert.Contains(phrase, error, StringComparison.Ordinal);
        Assert.True(parts.IsDefault);
    }

    [Fact]
    public void Reserved_characters_are_the_escape_the_null_marker_and_each_literal_character_once()
    {
        ImmutableArray<KeyTemplatePart> parts = KeyTemplate.Parse("{a}:{b}/{c}::{{x}}", out _);

        Assert.Equal("\\∅:/{x}", KeyTemplate.ReservedCharacters(parts));
    }

    [Fact]
    public void Random_templates_never_throw_and_valid_ones_reparse_to_the_same_parts()
    {
        const string alphabet = "{}.@$\\∅ab_1: ";
        var random = new Random(20_240_611);
        for (int i = 0; i < 5_000; i++)
        {
            var template = new StringBuilder();
            for (int length = random.Next(0, 12); length > 0; length--)
            {
                template.Append(alphabet[random.Next(alphabet.Length)]);
            }

            string text = template.ToString();
            ImmutableArray<KeyTemplatePart> parts;
            string? error;
            try
            {
                parts = KeyTemplate.Parse(text, out error);
            }
            catch (Exception exception)
            {
                Assert.Fail($"Case {i}: Parse(\"{text}\") threw {exception}");
                return;
            }

            Assert.True(error is null != parts.IsDefault, $"Case {i}: \"{text}\" returned both or neither of parts and an error.");
            if (error is null)
            {
                string rewritten = string.Concat(parts.Select(p => p.IsContextPlaceholder ? "{$" + p.ContextName + "}"
                    : p.IsPlaceholder ? "{" + string.Join(".", p.Path) + "}"
                    : p.Literal.Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal)));
                Assert.Equal(Describe(text), Describe(rewritten));
            }
        }
    }

    private static string[] Describe(string template)
    {
        ImmutableArray<KeyTemplatePart> parts = KeyTemplate.Parse(template, out string? error);
        Assert.True(error is null, $"\"{template}\": {error}");
        return parts.Select(p => p.IsContextPlaceholder ? "context:" + p.ContextName
            : p.IsPlaceholder ? "path:" + string.Join(".", p.Path)
            : "text:" + p.Literal).ToArray();
    }
}
