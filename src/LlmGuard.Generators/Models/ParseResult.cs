using LlmGuard.Generators.Common;
using LlmGuard.Generators.Diagnostics;

namespace LlmGuard.Generators.Models;

/// <summary>
/// What the parser makes of one [Guarded] method: a spec to generate from (or <see langword="null"/> when the
/// declaration is unusable) and the diagnostics to report.
/// </summary>
// Stub: Set when the method has errors but its signature can still be implemented, so the build reports only LlmGuard's diagnostics.
internal sealed record ParseResult(GuardedMethodSpec? Spec, StubSpec? Stub, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>A partial method implementation that only throws, written for a declaration that has errors.</summary>
internal sealed record StubSpec(TypeHierarchy ContainingType, string Name, string Modifiers, string ReturnType, EquatableArray<ParameterSpec> Parameters, string ConstraintClauses, string DiagnosticId);
