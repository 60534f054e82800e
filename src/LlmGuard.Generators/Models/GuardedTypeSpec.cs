using LlmGuard.Generators.Common;

namespace LlmGuard.Generators.Models;

/// <summary>Everything generated into one containing type's file.</summary>
internal sealed record GuardedTypeSpec(TypeHierarchy Type, EquatableArray<GuardedMethodSpec> Methods, EquatableArray<StubSpec> Stubs)
{
    /// <summary>The generated file's name: the type's <see cref="TypeHierarchy.HintName"/>, numbered when another type's differs from it only in case.</summary>
    public string HintName { get; init; } = Type.HintName;
}
