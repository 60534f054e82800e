using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using LlmGuard.Generators.Diagnostics;
using LlmGuard.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Operations;

namespace LlmGuard.Generators.Analyzers;

/// <summary>
/// LLMG100: a call of a model SDK (or a method group that captures one) outside a guarded boundary: the core of a
/// [Guarded] method, a member or type marked [GuardBoundary], or generated code.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class UnguardedLlmCallAnalyzer : DiagnosticAnalyzer
{
    /// <summary>The .editorconfig key for a team's own model APIs: documentation comment IDs separated by ';'.</summary>
    public const string ApisOption = "llmguard.llm_apis";

    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } =
        ImmutableArray.Create(DiagnosticDescriptors.UnguardedLlmCall, DiagnosticDescriptors.InvalidLlmApiEntry);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(Start);
    }

    private static void Start(CompilationStartAnalysisContext context)
    {
        var apis = new LlmApiSet(context.Compilation);
        foreach ((string type, string[] methods) in KnownLlmApis.All)
        {
            apis.AddKnown(type, methods);
        }

        List<(string Entry, string Problem)> invalid = apis.AddConfigured(ConfiguredEntries(context.Compilation, context.Options));
        if (invalid.Count > 0)
        {
            context.RegisterCompilationEndAction(end =>
            {
                foreach ((string entry, string problem) in invalid)
                {
                    end.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InvalidLlmApiEntry, Location.None, entry, problem));
                }
            });
        }

        // No SDK referenced and nothing configured: nothing to look at, and nothing allocated per node.
        if (apis.IsEmpty)
        {
            return;
        }

        var boundaries = new GuardBoundaries();
        context.RegisterOperationAction(
            operation => Analyze(operation, ((IInvocationOperation)operation.Operation).TargetMethod, apis, boundaries),
            OperationKind.Invocation);
        context.RegisterOperationAction(
            operation => Analyze(operation, ((IMethodReferenceOperation)operation.Operation).Method, apis, boundaries),
            OperationKind.MethodReference);
    }

    private static void Analyze(OperationAnalysisContext context, IMethodSymbol method, LlmApiSet apis, GuardBoundaries boundaries)
    {
        if (apis.Contains(method) && !boundaries.Contains(context.ContainingSymbol))
        {
            string name = (method.ReducedFrom ?? method).ContainingType.Name + "." + method.Name;
            context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.UnguardedLlmCall, context.Operation.Syntax.GetLocation(), name));
        }
    }

    private static IEnumerable<string> ConfiguredEntries(Compilation compilation, AnalyzerOptions analyzerOptions)
    {
        AnalyzerConfigOptionsProvider provider = analyzerOptions.AnalyzerConfigOptionsProvider;
        IEnumerable<AnalyzerConfigOptions> options = compilation.SyntaxTrees.Select(provider.GetOptions).Prepend(provider.GlobalOptions);
        return options
            .Select(o => o.TryGetValue(ApisOption, out string? value) ? value : null)
            .OfType<string>()
            .SelectMany(SplitEntries)
            .Distinct(StringComparer.Ordinal);
    }

    /// <summary>
    /// Entries are separated by commas outside a parameter list, or by whitespace: .editorconfig reads ';' and '#' as
    /// the start of a comment, so a ';' list would silently keep only its first entry. ';' still separates, for
    /// option providers that pass the value whole.
    /// </summary>
    private static IEnumerable<string> SplitEntries(string value)
    {
        int depth = 0;
        int start = 0;
        for (int i = 0; i <= value.Length; i++)
        {
            char c = i < value.Length ? value[i] : ';';
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            if (c == ';' || char.IsWhiteSpace(c) || (c == ',' && depth <= 0))
            {
                if (i > start)
                {
                    yield return value.Substring(start, i - start);
                }

                start = i + 1;
            }
        }
    }

    /// <summary>The model SDK methods of one compilation, resolved to symbols once.</summary>
    private sealed class LlmApiSet
    {
        private readonly Compilation _compilation;
        private readonly HashSet<IMethodSymbol> _methods = new(SymbolEqualityComparer.Default);
        private readonly HashSet<INamedTypeSymbol> _wholeTypes = new(SymbolEqualityComparer.Default);
        private readonly HashSet<INamedTypeSymbol> _interfaces = new(SymbolEqualityComparer.Default);

        public LlmApiSet(Compilation compilation) => _compilation = compilation;

        public bool IsEmpty => _methods.Count == 0 && _wholeTypes.Count == 0;

        public void AddKnown(string metadataName, string[] methodNames)
        {
            foreach (INamedTypeSymbol type in _compilation.GetTypesByMetadataName(metadataName))
            {
                foreach (IMethodSymbol method in methodNames.SelectMany(name => type.GetMembers(name)).OfType<IMethodSymbol>())
                {
                    Add(method);
                }
            }
        }

        public List<(string Entry, string Problem)> AddConfigured(IEnumerable<string> entries)
        {
            var invalid = new List<(string, string)>();
            foreach (string entry in entries)
            {
                if (!entry.StartsWith("T:", StringComparison.Ordinal) && !entry.StartsWith("M:", StringComparison.Ordinal))
                {
                    invalid.Add((entry, "is not a type (T:) or method (M:) documentation comment ID"));
                    continue;
                }

                ImmutableArray<ISymbol> symbols = DocumentationCommentId.GetSymbolsForDeclarationId(entry, _compilation);
                if (symbols.IsDefaultOrEmpty)
                {
                    invalid.Add((entry, "names no type or method this compilation can see"));
                    continue;
                }

                foreach (ISymbol symbol in symbols)
                {
                    if (symbol is INamedTypeSymbol type)
                    {
                        _wholeTypes.Add(type);
                    }
                    else if (symbol is IMethodSymbol method)
                    {
                        Add(method);
                    }
                }
            }

            return invalid;
        }

        public bool Contains(IMethodSymbol called)
        {
            IMethodSymbol method = (called.ReducedFrom ?? called).OriginalDefinition;
            if (_methods.Contains(method) || _wholeTypes.Contains(method.ContainingType.OriginalDefinition))
            {
                return true;
            }

            // A call through a type that implements a known interface, such as a concrete IChatClient.
            foreach (INamedTypeSymbol implemented in method.ContainingType.AllInterfaces)
            {
                if (_interfaces.Contains(implemented.OriginalDefinition)
                    && implemented.GetMembers(method.Name).Any(member =>
                        _methods.Contains(((IMethodSymbol)member).OriginalDefinition)
                        && SymbolEqualityComparer.Default.Equals(method.ContainingType.FindImplementationForInterfaceMember(member)?.OriginalDefinition, method)))
                {
                    return true;
                }
            }

            return false;
        }

        private void Add(IMethodSymbol method)
        {
            _methods.Add(method.OriginalDefinition);
            if (method.ContainingType.TypeKind == TypeKind.Interface)
            {
                _interfaces.Add(method.ContainingType.OriginalDefinition);
            }
        }
    }

    /// <summary>Decides, once per member, whether calls inside it are within a guarded boundary.</summary>
    private sealed class GuardBoundaries
    {
        private readonly ConcurrentDictionary<ISymbol, bool> _members = new(SymbolEqualityComparer.Default);

        public bool Contains(ISymbol containing)
        {
            ISymbol member = containing;
            while (member is IMethodSymbol { MethodKind: MethodKind.AnonymousFunction or MethodKind.LocalFunction } && member.ContainingSymbol is { } outer)
            {
                member = outer;
            }

            return _members.GetOrAdd(member, static m => IsBoundary(m));
        }

        private static bool IsBoundary(ISymbol member)
        {
            if (member is IMethodSymbol { AssociatedSymbol: { } property } && HasGuardBoundary(property))
            {
                return true;
            }

            for (ISymbol? symbol = member; symbol is not null and not INamespaceSymbol; symbol = symbol.ContainingSymbol)
            {
                if (HasGuardBoundary(symbol))
                {
                    return true;
                }
            }

            return member is IMethodSymbol method && IsCore(method);
        }

        private static bool HasGuardBoundary(ISymbol symbol) =>
            symbol.GetAttributes().Any(a => a.AttributeClass.Is("LlmGuard", "GuardBoundaryAttribute"));

        /// <summary>Whether the method is the core of a [Guarded] method of its type, or implements an interface's core.</summary>
        private static bool IsCore(IMethodSymbol method)
        {
            if (CoreNames(method.ContainingType).Contains(method.Name))
            {
                return true;
            }

            foreach (INamedTypeSymbol implemented in method.ContainingType.AllInterfaces)
            {
                foreach (string core in CoreNames(implemented))
                {
                    if (implemented.GetMembers(core).Any(member => SymbolEqualityComparer.Default.Equals(method.ContainingType.FindImplementationForInterfaceMember(member), method)))
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        private static IEnumerable<string> CoreNames(INamedTypeSymbol type) =>
            type.GetMembers().OfType<IMethodSymbol>()
                .Select(guarded => guarded.GetAttributes().FirstOrDefault(a => a.AttributeClass.Is("LlmGuard", "GuardedAttribute")) is { } attribute
                    ? attribute.NamedArguments.FirstOrDefault(a => a.Key == "Core").Value.Value as string ?? CoreNaming.CoreName(guarded.Name)
                    : null)
                .OfType<string>();
    }
}
