using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;

namespace LlmGuard.Generators.Parsing;

/// <summary>
/// The version part of a cached method's cache keys: a short hash of what decides whether a stored answer still fits,
/// the method's full signature, its key template and the shape of its result type. Computed from text only, so every build of the same
/// declarations gets the same version and a changed one gets another.
/// </summary>
internal static class CacheVersion
{
    public static string Of(IMethodSymbol method, ITypeSymbol? resultType, string? keyTemplate)
    {
        // The template too: {a}:{b} reordered to {b}:{a} renders the same text for swapped arguments.
        var text = new StringBuilder(keyTemplate ?? string.Empty).Append('|');
        text.Append(method.ContainingType.ToSource()).Append('.').Append(method.Name)
            .Append('`').Append(method.TypeParameters.Length).Append('(');
        foreach (IParameterSymbol parameter in method.Parameters)
        {
            text.Append(parameter.RefKind).Append(' ').Append(parameter.Type.ToSource()).Append(' ').Append(parameter.Name).Append(',');
        }

        text.Append(')').Append(method.ReturnType.ToSource());
        if (resultType is not null)
        {
            // A stored answer is deserialized into the result type: a member added, removed or retyped is a new shape.
            // An array's shape is its elements' (a completed stream is stored as the array of its items).
            ITypeSymbol shaped = resultType is IArrayTypeSymbol array ? array.ElementType : resultType;
            text.Append('{');
            foreach (ISymbol member in shaped.GetMembers().Where(m => !m.IsStatic && m.DeclaredAccessibility == Accessibility.Public).OrderBy(m => m.Name, System.StringComparer.Ordinal))
            {
                ITypeSymbol? type = member switch
                {
                    IPropertySymbol property => property.Type,
                    IFieldSymbol field => field.Type,
                    _ => null,
                };
                if (type is not null)
                {
                    text.Append(member.Name).Append(':').Append(type.ToSource()).Append(';');
                }
            }

            text.Append('}');
        }

        return Fnv1a64(text.ToString()).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }

    // FNV-1a: the same on every platform and runtime, unlike string.GetHashCode, which is randomized per process.
    private static ulong Fnv1a64(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in text)
        {
            hash = (hash ^ (byte)c) * 1099511628211UL;
            hash = (hash ^ (byte)(c >> 8)) * 1099511628211UL;
        }

        return hash;
    }
}
