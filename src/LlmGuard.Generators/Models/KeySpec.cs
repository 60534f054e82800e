using LlmGuard.Generators.Common;

namespace LlmGuard.Generators.Models;

/// <summary>How a call's key is rendered: the scene, then the template's segments in order.</summary>
// Template: The template as the user wrote it, or as implied by the parameters; shown in the generated code.
// ReservedCharacters: Characters a value escapes: <c>\</c>, <c>∅</c> and every character of the literal text.
// Parameters: the names (as source writes them) of the parameters the key reads, in declaration order.
internal sealed record KeySpec(string Scene, string Template, string ReservedCharacters, EquatableArray<KeySegment> Segments, EquatableArray<string> Parameters);

/// <summary>Literal text, or a value read by <see cref="Expression"/> and appended the way <see cref="Kind"/> says.</summary>
internal sealed record KeySegment(KeySegmentKind Kind, string Expression, string? Format)
{
    public static KeySegment Literal(string text) => new(KeySegmentKind.Literal, text, null);

    public static KeySegment CallContext(string property) => new(KeySegmentKind.CallContext, property, null);
}

internal enum KeySegmentKind
{
    Literal,

    /// <summary>A string, appended escaped; null renders as the null marker.</summary>
    String,

    /// <summary>Formatted with the invariant culture into a span, without boxing.</summary>
    SpanFormattable,

    /// <summary>Formatted with the invariant culture through <c>IFormattable</c>.</summary>
    Formattable,

    /// <summary>Rendered by the type's own <c>ToString</c> override.</summary>
    ToStringOverride,

    /// <summary>A string property of the current <c>LlmCallContext</c>, named by <see cref="KeySegment.Expression"/>; appended like <see cref="String"/>.</summary>
    CallContext,
}
