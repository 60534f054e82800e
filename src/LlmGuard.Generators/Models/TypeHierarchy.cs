using LlmGuard.Generators.Common;

namespace LlmGuard.Generators.Models;

/// <summary>The namespace and chain of types (outermost first) that contain guarded methods, as the generated file re-declares them.</summary>
/// <remarks>
/// <c>MetadataName</c> (documentation-ID style, <c>Ns.Outer.Inner`1</c>) and <c>AssemblyName</c> name the innermost type
/// in attributes such as <c>DynamicDependency</c>, where C# accessibility does not reach: generated code outside a
/// private nested type can still name it.
/// </remarks>
internal sealed record TypeHierarchy(string? Namespace, EquatableArray<TypeDeclaration> Types, string MetadataName, string AssemblyName)
{
    /// <summary>The generated file's name: <c>Namespace.Outer.Inner`1.Guarded.g.cs</c>, in characters the driver accepts.</summary>
    /// <remarks>
    /// The driver throws on a name with any other character, and names reach here from code being typed:
    /// <c>&lt;invalid-global-code&gt;</c> for a method outside any type, <c>@class</c> for an escaped keyword.
    /// Two names this makes equal are numbered apart by the generator, as names differing only in case are.
    /// </remarks>
    public string HintName =>
        ToHintName((Namespace is null ? string.Empty : Namespace + ".") + string.Join(".", System.Linq.Enumerable.Select(Types, type => type.MetadataName))) + ".Guarded.g.cs";

    private static string ToHintName(string name)
    {
        var hintName = new System.Text.StringBuilder(name.Length);
        foreach (char c in name)
        {
            if (char.IsLetterOrDigit(c) || c is '.' or '_' or '`' or '-' or '+' or ',')
            {
                hintName.Append(c);
            }
            else if (c != '@')
            {
                // '@' only marks an identifier as verbatim and is no part of the name; anything else stands out as '_'.
                hintName.Append('_');
            }
        }

        return hintName.ToString();
    }
}

/// <summary>One type of the chain: <c>Keyword</c> is <c>class</c>, <c>record</c>, <c>struct</c>, <c>record struct</c> or <c>interface</c>.</summary>
internal sealed record TypeDeclaration(string Keyword, string NameWithTypeParameters, string MetadataName);
