using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using LlmGuard.Generators.Common;
using LlmGuard.Generators.Models;
using Microsoft.CodeAnalysis;

namespace LlmGuard.Generators.Parsing;

/// <summary>
/// Which method a guarded method's <c>Fallback</c> names, and how it is called: a plain method (LLMG012's rules), or
/// another [Guarded] method that continues a fallback chain (LLMG027's rules). The parser of each method and the
/// cycle check that walks a chain through other methods of the type decide with these same rules, so the chain the
/// check follows is the one the generated code calls. A streaming primary's fallback streams too: it returns
/// <c>IAsyncEnumerable&lt;T&gt;</c> of the primary's item type, and a guarded one is a streaming method.
/// </summary>
internal static class FallbackMatching
{
    /// <summary>
    /// How <paramref name="primary"/>'s fallback is called: through the first method named <paramref name="name"/> (in
    /// declaration order) that fits, or <see langword="null"/> when none does.
    /// </summary>
    /// <param name="primary">The guarded method whose fallback is looked for.</param>
    /// <param name="resultType">
    /// The primary's result type: <c>T</c> of <c>Task&lt;T&gt;</c> or of <c>IAsyncEnumerable&lt;T&gt;</c>; <see langword="null"/> for <c>Task</c>.
    /// </param>
    /// <param name="name">The value of its <c>Fallback</c>.</param>
    /// <param name="target">The method the spec calls, for following the chain.</param>
    public static FallbackSpec? Match(IMethodSymbol primary, ITypeSymbol? resultType, string name, out IMethodSymbol? target)
    {
        foreach (IMethodSymbol candidate in Candidates(primary, name))
        {
            if (SymbolEqualityComparer.Default.Equals(candidate, primary))
            {
                continue;
            }

            FallbackSpec? spec = IsGuarded(candidate) ? MatchGuarded(primary, resultType, candidate) : MatchPlain(primary, resultType, candidate);
            if (spec is not null)
            {
                target = candidate;
                return spec;
            }
        }

        target = null;
        return null;
    }

    /// <summary>The ordinary methods of the primary's type with the fallback's name, overloads included.</summary>
    public static IMethodSymbol[] Candidates(IMethodSymbol primary, string name) =>
        primary.ContainingType.GetMembers(name).OfType<IMethodSymbol>().Where(m => m.MethodKind == MethodKind.Ordinary).ToArray();

    /// <summary>Whether <paramref name="candidates"/> is the primary alone: <c>Fallback = nameof(Self)</c>, a cycle of one.</summary>
    public static bool NamesItselfOnly(IMethodSymbol primary, IMethodSymbol[] candidates) =>
        candidates.Length == 1 && SymbolEqualityComparer.Default.Equals(candidates[0], primary);

    public static bool IsGuarded(IMethodSymbol method) =>
        method.GetAttributes().Any(a => a.AttributeClass.Is("LlmGuard", "GuardedAttribute"));

    /// <summary>
    /// The chain from <paramref name="primary"/> through its guarded fallback <paramref name="target"/> back to
    /// <paramref name="primary"/>, when it comes back; <see langword="null"/> when it ends, or runs into a cycle that
    /// <paramref name="primary"/> only leads to (whose own methods report it).
    /// </summary>
    /// <remarks>Fallbacks are methods of the same type, so the walk reads one type's members and visits each at most once.</remarks>
    public static IReadOnlyList<IMethodSymbol>? FindCycle(IMethodSymbol primary, IMethodSymbol target, CancellationToken cancellationToken)
    {
        var chain = new List<IMethodSymbol> { primary };
        var visited = new HashSet<IMethodSymbol>(SymbolEqualityComparer.Default) { primary };
        for (IMethodSymbol? current = target.OriginalDefinition; current is not null; current = NextGuarded(current)?.OriginalDefinition)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (SymbolEqualityComparer.Default.Equals(current, primary))
            {
                chain.Add(primary);
                return chain;
            }

            if (!visited.Add(current))
            {
                return null;
            }

            chain.Add(current);
        }

        return null;
    }

    /// <summary>
    /// The [Guarded] method that <paramref name="method"/>'s own fallback calls (the method itself when its Fallback names
    /// only itself); <see langword="null"/> when its chain ends there: no Fallback, a plain method, or nothing that fits.
    /// </summary>
    private static IMethodSymbol? NextGuarded(IMethodSymbol method)
    {
        if (FallbackName(method) is not { } name || !TryGetResultType(method, out ITypeSymbol? resultType))
        {
            return null;
        }

        IMethodSymbol[] candidates = Candidates(method, name);
        if (NamesItselfOnly(method, candidates))
        {
            return method;
        }

        return Match(method, resultType, name, out IMethodSymbol? next) is { Scene: not null } ? next : null;
    }

    private static string? FallbackName(IMethodSymbol method) =>
        GuardedAttribute(method)?.NamedArguments.FirstOrDefault(a => a.Key == "Fallback").Value is { Kind: not TypedConstantKind.Error, Value: string name } ? name : null;

    private static AttributeData? GuardedAttribute(IMethodSymbol method) =>
        method.GetAttributes().FirstOrDefault(a => a.AttributeClass.Is("LlmGuard", "GuardedAttribute"));

    private static bool TryGetResultType(IMethodSymbol method, out ITypeSymbol? resultType)
    {
        resultType = null;
        ITypeSymbol returnType = method.ReturnType;
        if (returnType is INamedTypeSymbol { TypeArguments.Length: 1 } generic
            && (returnType.Is("System.Threading.Tasks", "Task`1") || returnType.Is("System.Threading.Tasks", "ValueTask`1") || IsStream(returnType)))
        {
            resultType = generic.TypeArguments[0];
            return true;
        }

        return returnType.Is("System.Threading.Tasks", "Task") || returnType.Is("System.Threading.Tasks", "ValueTask");
    }

    private static bool IsStream(ITypeSymbol type) => type.Is("System.Collections.Generic", "IAsyncEnumerable`1");

    /// <summary>The scene a [Guarded] method's keys and metrics carry: its <c>Scene</c>, or <c>Type.Method</c> by default.</summary>
    private static string SceneOf(IMethodSymbol method) =>
        GuardedAttribute(method)?.NamedArguments.FirstOrDefault(a => a.Key == "Scene").Value.Value is string scene && !string.IsNullOrWhiteSpace(scene)
            ? scene
            : method.ContainingType.Name + "." + method.Name;

    /// <summary>
    /// A guarded target is called with the primary's arguments, each by value, in order, and with the primary's
    /// execution token wherever it takes a <c>CancellationToken</c>. It must take one when the primary does: otherwise
    /// its execution would outlive the callers who cancelled, and the chain below it would run for nobody.
    /// </summary>
    private static FallbackSpec? MatchGuarded(IMethodSymbol primary, ITypeSymbol? resultType, IMethodSymbol candidate)
    {
        if ((primary.IsStatic && !candidate.IsStatic) || candidate.AlignedWith(primary) is not { } aligned
            || FallbackReturnOf(aligned.ReturnType, resultType, IsStream(primary.ReturnType)) is not { } returns)
        {
            return null;
        }

        IParameterSymbol[] values = primary.Parameters.Where(p => !p.Type.IsCancellationToken()).ToArray();
        ImmutableArray<IParameterSymbol> parameters = aligned.Parameters;
        bool takesToken = parameters.Any(p => p.Type.IsCancellationToken());
        if ((primary.Parameters.Any(p => p.Type.IsCancellationToken()) && !takesToken)
            || parameters.Length - parameters.Count(p => p.Type.IsCancellationToken()) != values.Length)
        {
            return null;
        }

        var arguments = new List<FallbackArgument>(parameters.Length);
        int next = 0;
        foreach (IParameterSymbol parameter in parameters)
        {
            if (parameter.Type.IsCancellationToken())
            {
                arguments.Add(FallbackArgument.CancellationToken);
                continue;
            }

            IParameterSymbol value = values[next++];
            if (parameter.RefKind != RefKind.None || !SymbolEqualityComparer.Default.Equals(parameter.Type, value.Type))
            {
                return null;
            }

            arguments.Add(new FallbackArgument(FallbackArgumentKind.Parameter, SymbolExtensions.EscapeIdentifier(value.Name)));
        }

        return new FallbackSpec(SymbolExtensions.EscapeIdentifier(candidate.Name), candidate.IsStatic, candidate.IsGenericMethod, arguments.ToEquatableArray(), returns, SceneOf(candidate));
    }

    private static FallbackSpec? MatchPlain(IMethodSymbol primary, ITypeSymbol? resultType, IMethodSymbol candidate)
    {
        if ((primary.IsStatic && !candidate.IsStatic) || candidate.AlignedWith(primary) is not { } aligned)
        {
            return null;
        }

        FallbackReturn? returns = FallbackReturnOf(aligned.ReturnType, resultType, IsStream(primary.ReturnType));
        if (returns is null)
        {
            return null;
        }

        ImmutableArray<IParameterSymbol> parameters = aligned.Parameters;
        bool takesException = parameters.Length > 0 && parameters[parameters.Length - 1].Type.Is("System", "Exception");
        int count = takesException ? parameters.Length - 1 : parameters.Length;

        foreach (bool includeToken in new[] { true, false })
        {
            IParameterSymbol[] expected = primary.Parameters.Where(p => includeToken || !p.Type.IsCancellationToken()).ToArray();
            if (count != expected.Length)
            {
                continue;
            }

            bool matches = true;
            for (int i = 0; i < count && matches; i++)
            {
                matches = parameters[i].RefKind == RefKind.None && SymbolEqualityComparer.Default.Equals(parameters[i].Type, expected[i].Type);
            }

            if (!matches)
            {
                continue;
            }

            IEnumerable<FallbackArgument> arguments = expected.Select(p => p.Type.IsCancellationToken()
                ? FallbackArgument.CancellationToken
                : new FallbackArgument(FallbackArgumentKind.Parameter, SymbolExtensions.EscapeIdentifier(p.Name)));
            if (takesException)
            {
                arguments = arguments.Concat(new[] { FallbackArgument.Exception });
            }

            return new FallbackSpec(SymbolExtensions.EscapeIdentifier(candidate.Name), candidate.IsStatic, candidate.IsGenericMethod, arguments.ToEquatableArray(), returns.Value);
        }

        return null;
    }

    private static FallbackReturn? FallbackReturnOf(ITypeSymbol returnType, ITypeSymbol? resultType, bool streams)
    {
        // A stream's fallback is called for the stream it returns, never awaited.
        if (streams)
        {
            return returnType is INamedTypeSymbol { TypeArguments.Length: 1 } stream && IsStream(returnType)
                && SymbolEqualityComparer.Default.Equals(stream.TypeArguments[0], resultType)
                ? FallbackReturn.Value
                : null;
        }

        if (resultType is null)
        {
            return returnType.SpecialType == SpecialType.System_Void ? FallbackReturn.Value
                : returnType.Is("System.Threading.Tasks", "Task") || returnType.Is("System.Threading.Tasks", "ValueTask") ? FallbackReturn.Awaitable
                : null;
        }

        if (SymbolEqualityComparer.Default.Equals(returnType, resultType))
        {
            return FallbackReturn.Value;
        }

        bool isTaskOfResult = returnType is INamedTypeSymbol { TypeArguments.Length: 1 } task
            && (returnType.Is("System.Threading.Tasks", "Task`1") || returnType.Is("System.Threading.Tasks", "ValueTask`1"))
            && SymbolEqualityComparer.Default.Equals(task.TypeArguments[0], resultType);
        return isTaskOfResult ? FallbackReturn.Awaitable : null;
    }
}
