using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using LlmGuard.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace LlmGuard.Generators.Tests;

/// <summary>
/// The runtime's public surface against its checked-in listing (<c>src/LlmGuard/PublicAPI.Shipped.txt</c> and
/// <c>PublicAPI.Unshipped.txt</c>), so a change to the public API is a visible diff in review.
/// </summary>
public sealed class PublicApiTests
{
    private static readonly SymbolDisplayFormat Format = new(
        globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters | SymbolDisplayGenericsOptions.IncludeTypeConstraints | SymbolDisplayGenericsOptions.IncludeVariance,
        memberOptions: SymbolDisplayMemberOptions.IncludeContainingType | SymbolDisplayMemberOptions.IncludeParameters | SymbolDisplayMemberOptions.IncludeType
            | SymbolDisplayMemberOptions.IncludeModifiers | SymbolDisplayMemberOptions.IncludeAccessibility | SymbolDisplayMemberOptions.IncludeConstantValue
            | SymbolDisplayMemberOptions.IncludeExplicitInterface | SymbolDisplayMemberOptions.IncludeRef,
        kindOptions: SymbolDisplayKindOptions.IncludeTypeKeyword,
        propertyStyle: SymbolDisplayPropertyStyle.ShowReadWriteDescriptor,
        parameterOptions: SymbolDisplayParameterOptions.IncludeType | SymbolDisplayParameterOptions.IncludeName | SymbolDisplayParameterOptions.IncludeDefaultValue
            | SymbolDisplayParameterOptions.IncludeParamsRefOut | SymbolDisplayParameterOptions.IncludeExtensionThis,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes | SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private static readonly SymbolDisplayFormat BaseFormat = Format.WithKindOptions(SymbolDisplayKindOptions.None);

    private static string ListingDirectory => Path.Combine(RepositoryPaths.Root, "src", "LlmGuard");

    [Fact]
    public void The_runtime_public_api_matches_the_checked_in_listing()
    {
        string[] actual = PublicApiOf(typeof(GuardedAttribute).Assembly.Location);
        string[] shipped = ReadListing("PublicAPI.Shipped.txt");
        string[] unshipped = ReadListing("PublicAPI.Unshipped.txt");

        string[] removedShipped = shipped.Except(actual, StringComparer.Ordinal).ToArray();
        if (Environment.GetEnvironmentVariable(Snapshot.UpdateVariable) == "1" && removedShipped.Length == 0)
        {
            File.WriteAllLines(Path.Combine(ListingDirectory, "PublicAPI.Unshipped.txt"), actual.Except(shipped, StringComparer.Ordinal).Prepend("#nullable enable"));
            return;
        }

        string[] listed = shipped.Concat(unshipped).ToArray();
        string[] added = actual.Except(listed, StringComparer.Ordinal).ToArray();
        string[] removed = listed.Except(actual, StringComparer.Ordinal).ToArray();
        Assert.True(
            added.Length == 0 && removed.Length == 0,
            "The public API of LlmGuard changed. Review it, then record it in src/LlmGuard/PublicAPI.Unshipped.txt " +
            $"(or run the tests with {Snapshot.UpdateVariable}=1; removing a shipped line is a breaking change and is never automatic).\n" +
            string.Concat(added.Select(line => $"+ {line}\n")) + string.Concat(removed.Select(line => $"- {line}\n")));
        Assert.Empty(shipped.Intersect(unshipped, StringComparer.Ordinal));
    }

    private static string[] ReadListing(string name) =>
        File.ReadAllLines(Path.Combine(ListingDirectory, name))
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .ToArray();

    private static string[] PublicApiOf(string assemblyPath)
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
                    foreach (ISymbol typeMember in type.GetMembers().Where(m => IsVisible(m) && m is not INamedTypeSymbol && !IsAccessorOrImplicit(m)))
                    {
                        lines.Add(typeMember.ToDisplayString(Format));
                    }

                    Collect(type, lines);
                    break;
            }
        }
    }

    private static string DescribeType(INamedTypeSymbol type)
    {
        var bases = new List<string>();
        if (type.BaseType is { SpecialType: not (SpecialType.System_Object or SpecialType.System_ValueType or SpecialType.System_Enum) } baseType && type.TypeKind == TypeKind.Class)
        {
            bases.Add(baseType.ToDisplayString(BaseFormat));
        }

        bases.AddRange(type.Interfaces.Where(i => i.DeclaredAccessibility == Accessibility.Public).Select(i => i.ToDisplayString(BaseFormat)));
        string modifiers = (type.IsStatic ? "static " : type.IsSealed && type.TypeKind == TypeKind.Class ? "sealed " : type.IsAbstract && type.TypeKind == TypeKind.Class ? "abstract " : "");
        return $"{modifiers}{type.ToDisplayString(Format)}{(bases.Count > 0 ? " : " + string.Join(", ", bases) : "")}";
    }

    private static bool IsVisible(ISymbol symbol) =>
        symbol.DeclaredAccessibility is Accessibility.Public or Accessibility.Protected or Accessibility.ProtectedOrInternal
        && (symbol.ContainingType is null || IsVisible(symbol.ContainingType));

    private static bool IsAccessorOrImplicit(ISymbol member) =>
        // A class's implicit constructor is API a caller can use; a struct's or an enum's is not a choice anybody made.
        member.IsImplicitlyDeclared && (member is not IMethodSymbol { MethodKind: MethodKind.Constructor } || member.ContainingType.IsValueType)
        || member is IMethodSymbol { MethodKind: MethodKind.PropertyGet or MethodKind.PropertySet or MethodKind.EventAdd or MethodKind.EventRemove };
}
