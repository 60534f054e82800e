using LlmGuard.Generators.Common;

namespace LlmGuard.Generators.Models;

/// <summary>Everything generated into one containing type's file.</summary>
internal sealed record GuardedTypeSpec(TypeHierarchy Type, EquatableArray<GuardedMethodSpec> Methods, EquatableArray<StubSpec> Stubs);
