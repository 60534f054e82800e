using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace LlmGuard.Generators.Parsing;

internal static class SymbolExtensions
{
    /// <summary>Fully qualified with <c>global::</c>, keeping nullable annotations, as generated code writes types.</summary>
    public static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>Short and readable, for diagnostic messages.</summary>
    public static readonly SymbolDisplayFormat MessageFormat = SymbolDisplayFormat.MinimallyQualifiedFormat;

    public static string ToSource(this ITypeSymbol type) => type.ToDisplayString(TypeFormat);

    public static string ToMessage(this ITypeSymbol type) => type.ToDisplayString(MessageFormat);

    /// <summary>Whether the type's namespace and metadata name are exactly these, without a compilation lookup.</summary>
    public static bool Is(this ITypeSymbol? type, string containingNamespace, string metadataName) =>
        type is not null
        && type.MetadataName == metadataName
        && type.ContainingNamespace?.ToDisplayString() == containingNamespace;

    public static bool IsCancellationToken(this ITypeSymbol type) => type.Is("System.Threading", "CancellationToken");

    public static bool IsGuardRuntime(this ITypeSymbol type) => type.Is("LlmGuard", "GuardRuntime");

    public static bool Implements(this ITypeSymbol type, string containingNamespace, string metadataName) =>
        type.Is(containingNamespace, metadataName) || type.AllInterfaces.Any(i => i.Is(containingNamespace, metadataName));

    public static bool IsNullableValueType(this ITypeSymbol type, out ITypeSymbol underlying)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            underlying = nullable.TypeArguments[0];
            return true;
        }

        underlying = type;
        return false;
    }

    /// <summary>Whether the type, or a base type below object, ValueType and Enum, overrides <c>ToString()</c>.</summary>
    public static bool OverridesToString(this ITypeSymbol type)
    {
        for (ITypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            if (current.SpecialType is SpecialType.System_Object or SpecialType.System_ValueType or SpecialType.System_Enum)
            {
                return false;
            }

            if (current.GetMembers("ToString").OfType<IMethodSymbol>().Any(m => m.IsOverride && m.Parameters.Length == 0))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// <paramref name="candidate"/> with <paramref name="method"/>'s type parameters in place of its own, so signatures
    /// compare; a non-generic candidate as it is; <see langword="null"/> when the numbers of type parameters differ.
    /// </summary>
    public static IMethodSymbol? AlignedWith(this IMethodSymbol candidate, IMethodSymbol method) =>
        candidate.Arity == 0 ? candidate
        : candidate.Arity == method.Arity ? candidate.Construct(method.TypeParameters.Cast<ITypeSymbol>().ToArray())
        : null;

    public static string EscapeIdentifier(string name) =>
        SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None ? "@" + name : name;

    /// <summary><c>Type.Method</c>, or the method alone when its type is one the compiler made up (top-level or script code).</summary>
    public static string DisplayName(this IMethodSymbol method) =>
        method.ContainingType is null || method.ContainingType.IsMadeUpByCompiler()
            ? method.Name
            : method.ContainingType.Name + "." + method.Name;

    /// <summary>
    /// Whether the compiler made the type up for code outside any type (<c>&lt;invalid-global-code&gt;</c>, top-level
    /// statements, a script's class): no source can declare a part of it.
    /// </summary>
    public static bool IsMadeUpByCompiler(this INamedTypeSymbol type) =>
        type.IsImplicitlyDeclared || type.IsImplicitClass || type.IsScriptClass;
}
