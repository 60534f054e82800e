using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LlmGuard.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace LlmGuard.Generators.Tests;

/// <summary>
/// What the public API analyzer (RS0016/RS0017 over <c>src/LlmGuard/PublicAPI.*.txt</c>, which fail the runtime's
/// build) does not record: a public type's kind, modifiers and bases, and a generic member's constraints. Sealing a
/// type, changing its base or tightening a constraint breaks callers just as removing a member does.
/// </summary>
public sealed class PublicApiShapeTests
{
    private static readonly SymbolDisplayFormat Format = new(
        globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters | SymbolDisplayGenericsOptions.IncludeTypeConstraints | SymbolDisplayGenericsOptions.IncludeVariance,
        memberOptions: SymbolDisplayMemberOptions.IncludeContainingType | SymbolDisplayMemberOptions.IncludeParameters | SymbolDisplayMemberOptions.IncludeType
            | SymbolDisplayMemberOptions.IncludeModifiers | SymbolDisplayMemberOptions.IncludeAccessibility | SymbolDisplayMemberOptions.IncludeExplicitInterface
            | SymbolDisplayMemberOptions.IncludeRef,
        kindOptions: SymbolDisplayKindOptions.IncludeTypeKeyword,
        parameterOptions: SymbolDisplayParameterOptions.IncludeType | SymbolDisplayParameterOptions.IncludeName | SymbolDisplayParameterOptions.IncludeParamsRefOut
            | SymbolDisplayParameterOptions.IncludeExtensionThis,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes | SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private static readonly SymbolDisplayFormat BaseFormat = Format.WithKindOptions(SymbolDisplayKindOptions.None);

    private static string ListingPath => Path.Combine(RepositoryPaths.Root, "tests", "LlmGuard.Generators.Tests", "PublicApiShapes.txt");

    [Fact]
    public void Public_types_and_generic_constraints_of_the_runtime_match_the_checked_in_listing()
    {
        string[] actual = ShapesOf(typeof(GuardedAttribute).Assembly.Location);
        if (Environment.GetEnvironmentVariable(Snapshot.UpdateVariable) == "1")
        {
            File.WriteAllLines(ListingPath, actual);
            return;
        }

        string[] listed = File.ReadAllLines(ListingPath).Where(line => line.Length > 0).ToArray();
        string[] added = actual.Except(listed, StringComparer.Ordinal).ToArray();
        string[] removed = listed.Except(actual, StringComparer.Ordinal).ToArray();
        Assert.True(
            added.Length == 0 && removed.Length == 0,
            "The shape of LlmGuard's public types changed. Review it, then record it in tests/LlmGuard.Generators.Tests/PublicApiShapes.txt " +
            $"(or run this test with {Snapshot.UpdateVariable}=1).\n" +
            string.Concat(added.Select(line => $"+ {line}\n")) + string.Concat(removed.Select(line => $"- {line}\n")));
    }

    private static string[] ShapesOf(string assemblyPath)
    {
        MetadataReference runtime = MetadataReference.CreateFromFile(assemblyPath);
        CSharpCompilation compilation = CSharpCompilation.Create(
            "PublicApi",
            references: GeneratorHarness.ReferencePaths().Select(path => MetadataReference.CreateFromFile(path)),
            options: new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var assembly = (IAssemblySymbol)compilation.GetAssemblyOrModuleSymbol(compilation.References.Single(r => r.Display == runtime.Display))!;

        var lines = new List<string>();
        Collect(assembly.GlobalNamespace, lines);
        return lines.Order(StringComparer.Ordinal).ToArray();
    }

    private static void Collect(INamespaceOrTypeSymbol container, List<string> lines)
    {
        foreach (ISymbol member in container.GetMembers())
        {
            switch (member)
            {
                case INamespaceSymbol ns:
                    Collect(ns, lines);
                    break;
                case INamedTypeSymbol type when IsVisible(type):
                    lines.Add(DescribeType(type));
                    lines.AddRange(type.GetMembers().OfType<IMethodSymbol>()
                        .Where(method => IsVisible(method) && method.TypeParameters.Any(HasConstraints))
                        .Select(method => method.ToDisplayString(Format)));
                    Collect(type, lines);
                    break;
            }
        }
    }

    private static bool HasConstraints(ITypeParameterSymbol parameter) =>
        parameter.HasReferenceTypeConstraint || parameter.HasValueTypeConstraint || parameter.HasUnmanagedTypeConstraint
        || parameter.HasNotNullConstraint || parameter.HasConstructorConstraint || !parameter.ConstraintTypes.IsEmpty;

    private static string DescribeType(INamedTypeSymbol type)
    {
        var bases = new List<string>();
        if (type.BaseType is { SpecialType: not (SpecialType.System_Object or SpecialType.System_ValueType or SpecialType.System_Enum) } baseType && type.TypeKind == TypeKind.Class)
        {
            bases.Add(baseType.ToDisplayString(BaseFormat));
        }

        bases.AddRange(type.Interfaces.Where(i => i.DeclaredAccessibility == Accessibility.Public).Select(i => i.ToDisplayString(BaseFormat)));
        string modifiers = type.IsStatic ? "static " : type.IsSealed && type.TypeKind == TypeKind.Class ? "sealed " : type.IsAbstract && type.TypeKind == TypeKind.Class ? "abstract " : "";
        return $"{modifiers}{type.ToDisplayString(Format)}{(bases.Count > 0 ? " : " + string.Join(", ", bases) : "")}";
    }

    private static bool IsVisible(ISymbol symbol) =>
        symbol.DeclaredAccessibility is Accessibility.Public or Accessibility.Protected or Accessibility.ProtectedOrInternal
        && (symbol.ContainingType is null || IsVisible(symbol.ContainingType));
}
