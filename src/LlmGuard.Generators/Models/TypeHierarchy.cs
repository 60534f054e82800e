using LlmGuard.Generators.Common;

namespace LlmGuard.Generators.Models;

/// <summary>The namespace and chain of types (outermost first) that contain guarded methods, as the generated file re-declares them.</summary>
internal sealed record TypeHierarchy(string? Namespace, EquatableArray<TypeDeclaration> Types)
{
    /// <summary>The generated file's name: <c>Namespace.Outer.Inner`1.Guarded.g.cs</c>.</summary>
    public string HintName =>
        (Namespace is null ? string.Empty : Namespace + ".") + string.Join(".", System.Linq.Enumerable.Select(Types, type => type.MetadataName)) + ".Guarded.g.cs";
}

/// <summary>One type of the chain: <c>Keyword</c> is <c>class</c>, <c>record</c>, <c>struct</c>, <c>record struct</c> or <c>interface</c>.</summary>
internal sealed record TypeDeclaration(string Keyword, string NameWithTypeParameters, string MetadataName);
