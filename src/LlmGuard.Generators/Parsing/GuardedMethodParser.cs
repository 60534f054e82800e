using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;
using LlmGuard.Generators.Common;
using LlmGuard.Generators.Diagnostics;
using LlmGuard.Generators.Models;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace LlmGuard.Generators.Parsing;

/// <summary>
/// Turns one [Guarded] method into a <see cref="GuardedMethodSpec"/> and the diagnostics that explain what is wrong
/// with it. Reads symbols only here: nothing it returns holds a symbol, a syntax node or a compilation.
/// </summary>
internal sealed class GuardedMethodParser
{
    private readonly IMethodSymbol _method;
    private readonly MethodDeclarationSyntax _syntax;
    private readonly AttributeData _attribute;
    private readonly Compilation _compilation;
    private readonly SemanticModel _semanticModel;
    private readonly CancellationToken _cancellationToken;
    private readonly List<DiagnosticInfo> _diagnostics = new();
    private readonly string _display;

    private GuardedMethodParser(IMethodSymbol method, MethodDeclarationSyntax syntax, AttributeData attribute, SemanticModel semanticModel, CancellationToken cancellationToken)
    {
        _method = method;
        _syntax = syntax;
        _attribute = attribute;
        _compilation = semanticModel.Compilation;
        _semanticModel = semanticModel;
        _cancellationToken = cancellationToken;
        _display = method.DisplayName();
    }

    private INamedTypeSymbol ContainingType => _method.ContainingType;

    private Location MethodLocation => _syntax.Identifier.GetLocation();

    public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetNode is LocalFunctionStatementSyntax localFunction)
        {
            // Silently ignoring the attribute would leave the function unguarded.
            var refused = DiagnosticInfo.Create(
                DiagnosticDescriptors.UnsupportedDeclaration,
                localFunction.Identifier.GetLocation(),
                localFunction.Identifier.Text,
                "a local function cannot be partial; declare it as a partial method of the type");
            return new ParseResult(null, null, new[] { refused }.ToEquatableArray());
        }

        if (context.TargetSymbol is not IMethodSymbol method || context.TargetNode is not MethodDeclarationSyntax syntax || context.Attributes.IsEmpty)
        {
            return new ParseResult(null, null, EquatableArray<DiagnosticInfo>.Empty);
        }

        // A signature or a containing name still being typed is a syntax error the compiler reports already; code or
        // diagnostics made from what it recovered (an empty name, a parameter type named like the parameter) only add noise.
        if (SignatureHasSyntaxErrors(syntax))
        {
            return new ParseResult(null, null, EquatableArray<DiagnosticInfo>.Empty);
        }

        return new GuardedMethodParser(method, syntax, context.Attributes[0], context.SemanticModel, cancellationToken).Parse();
    }

    private static bool SignatureHasSyntaxErrors(MethodDeclarationSyntax syntax)
    {
        if (HasError(syntax.Identifier) || syntax.Modifiers.Any(m => HasError(m)) || HasError(syntax.ReturnType) || HasError(syntax.TypeParameterList)
            || HasError(syntax.ParameterList) || syntax.ConstraintClauses.Any(c => HasError(c)))
        {
            return true;
        }

        foreach (SyntaxNode ancestor in syntax.Ancestors())
        {
            bool broken = ancestor switch
            {
                TypeDeclarationSyntax type => HasError(type.Identifier) || HasError(type.TypeParameterList),
                BaseNamespaceDeclarationSyntax ns => HasError(ns.Name),
                _ => false,
            };
            if (broken)
            {
                return true;
            }
        }

        return false;

        static bool HasError(SyntaxNodeOrToken item) =>
            item.ContainsDiagnostics && item.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error);
    }

    private ParseResult Parse()
    {
        if (!CheckPartialDeclaration() || !CheckSupportedShape())
        {
            return Result(spec: null, stub: null);
        }

        TypeHierarchy hierarchy = BuildHierarchy(ContainingType);
        EquatableArray<ParameterSpec> parameters = _method.Parameters.Select(ToParameterSpec).ToEquatableArray();
        bool canStub = CheckParameters();
        ReturnShape? shape = GetReturnShape(out ITypeSymbol? resultType);

        bool streams = shape == ReturnShape.AsyncEnumerable;
        // LLMG032 reports a stream setting on a method that does not stream, so its value is not checked as well.
        AttributeValues values = ReadAttribute(streams, checkStreamValues: streams || shape is null);
        KeySpec? key = BuildKey(values);
        EquatableArray<AppendSpec> appends = FindAppends(values, streams);
        if (values.Merges && !streams && key is not null && key.Segments.All(segment => segment.Kind == KeySegmentKind.Literal))
        {
            Report(DiagnosticDescriptors.MergeWindowWithoutConversationKey, values.Key is null ? MethodLocation : ArgumentLocation("Key"), _display, values.MergeWindowMs.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        string coreName = values.Core ?? CoreNaming.CoreName(_method.Name);
        CheckCore(coreName);
        if (values.CacheSeconds > 0 && values.SingleFlight && key is not null)
        {
            CheckCachedKey(values, key, coreName);
        }

        SemanticSpec? semantic = FindSemanticText(values, key, streams);
        if (streams)
        {
            CheckStreamingSettings(values);
        }
        else if (shape is not null)
        {
            CheckStreamOnlySettings();
        }

        FallbackSpec? fallback = values.Fallback is null || shape is null ? null : FindFallback(values.Fallback, streams, resultType);
        RuntimeSpec runtime = FindRuntime();

        if (_diagnostics.Any(d => DiagnosticDescriptors.ById(d.Id).DefaultSeverity == DiagnosticSeverity.Error) || shape is null || key is null)
        {
            string firstError = _diagnostics.First(d => DiagnosticDescriptors.ById(d.Id).DefaultSeverity == DiagnosticSeverity.Error).Id;
            StubSpec? stub = canStub ? new StubSpec(hierarchy, EscapedName + TypeParameterList(_method), Modifiers, _method.ReturnType.ToSource(), parameters, ConstraintClauses(_method), firstError) : null;
            return Result(spec: null, stub);
        }

        // Every method has one: it versions a cached method's answers and keys the executions a scene shares across
        // instances, where two methods of one scene with equal guard keys must not answer each other's callers.
        string version = CacheVersion.Of(_method, CachedType(streams, resultType), key.Template);
        var spec = new GuardedMethodSpec(
            hierarchy,
            ContainingType.ToSource(),
            EscapedName,
            Modifiers,
            _method.ReturnType.ToSource(),
            shape.Value,
            resultType is null ? "global::LlmGuard.Infrastructure.VoidResult" : resultType.ToSource(),
            parameters,
            TypeParameterList(_method),
            ConstraintClauses(_method),
            _method.IsStatic,
            SymbolExtensions.EscapeIdentifier(coreName),
            key,
            new PolicySpec(values.TimeoutMs, values.MaxRetries, values.RetryDelayMs, values.MaxRetryAfterMs, values.MaxConcurrency, values.BreakerFailureRatio),
            fallback,
            runtime,
            values.SingleFlight,
            values.Merges ? new MergeSpec(values.MergeWindowMs, values.Sliding, values.MergeMaxWaitMs, values.Supersede) : null,
            appends,
            streams ? null : FindUsage(resultType),
            values.CacheSeconds > 0 ? new CacheSpec(values.CacheSeconds) : null,
            semantic,
            streams ? new StreamSpec(values.FirstItemTimeoutMs ?? values.TimeoutMs, values.IdleTimeoutMs ?? values.TimeoutMs, values.StreamReplayItems) : null,
            version);
        return Result(spec, stub: null);
    }

    // A completed stream is cached as the array of its items.
    private ITypeSymbol? CachedType(bool streams, ITypeSymbol? resultType) =>
        streams && resultType is not null ? _compilation.CreateArrayTypeSymbol(resultType) : resultType;

    private string EscapedName => SymbolExtensions.EscapeIdentifier(_method.Name);

    private string Modifiers => string.Join(" ", _syntax.Modifiers.Select(m => m.Text));

    private ParseResult Result(GuardedMethodSpec? spec, StubSpec? stub) => new(spec, stub, _diagnostics.ToEquatableArray());

    private void Report(DiagnosticDescriptor descriptor, Location? location, params string[] arguments) =>
        _diagnostics.Add(DiagnosticInfo.Create(descriptor, location, arguments));


    private bool CheckPartialDeclaration()
    {
        string coreName = _attribute.NamedArguments.FirstOrDefault(a => a.Key == "Core").Value.Value as string ?? CoreNaming.CoreName(_method.Name);
        string? problem =
            !_syntax.Modifiers.Any(SyntaxKind.PartialKeyword) ? "is not partial"
            : _syntax.Body is not null || _syntax.ExpressionBody is not null ? "has a body"
            : _method.PartialImplementationPart is not null ? "already has an implementation part"
            : null;
        if (problem is not null)
        {
            Report(DiagnosticDescriptors.MethodMustBePartial, MethodLocation, _display, problem, coreName);
            return false;
        }

        foreach (TypeDeclarationSyntax type in _syntax.Ancestors().OfType<TypeDeclarationSyntax>())
        {
            if (!type.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                Report(DiagnosticDescriptors.TypeMustBePartial, type.Identifier.GetLocation(), type.Identifier.Text, _display);
                return false;
            }
        }

        return true;
    }

    private bool CheckSupportedShape()
    {
        string? limitation =
            _syntax.ExplicitInterfaceSpecifier is not null ? "a partial method cannot implement an interface member explicitly; guard a method of the type and call it from the implementation"
            : ContainingType.IsRefLikeType ? "its type is a ref struct, which cannot be carried by a call that may outlive its caller"
            : ContainingType.IsValueType && !ContainingType.IsReadOnly ? "the core would run on a copy of the struct, so any change it makes to the struct would be lost; declare it a readonly struct, or use a class"
            : InFileLocalType(ContainingType) ? "its type is file-local, and generated code cannot extend a type outside that type's file"
            : InImplicitType(ContainingType) ? "it is not declared in a type (top-level or script code), and generated code can only extend a partial type; declare it in a partial class"
            : null;
        if (limitation is not null)
        {
            Report(DiagnosticDescriptors.UnsupportedDeclaration, MethodLocation, _display, limitation);
            return false;
        }

        return true;

        static bool InFileLocalType(INamedTypeSymbol? type)
        {
            for (; type is not null; type = type.ContainingType)
            {
                if (type.IsFileLocal)
                {
                    return true;
                }
            }

            return false;
        }

        // Methods outside any type belong to a type the compiler makes up (<invalid-global-code>, a script's class),
        // which no source can declare a part of.
        static bool InImplicitType(INamedTypeSymbol? type)
        {
            for (; type is not null; type = type.ContainingType)
            {
                if (type.IsMadeUpByCompiler())
                {
                    return true;
                }
            }

            return false;
        }
    }

    private static string TypeParameterList(IMethodSymbol method) =>
        method.TypeParameters.IsEmpty ? string.Empty : "<" + string.Join(", ", method.TypeParameters.Select(t => SymbolExtensions.EscapeIdentifier(t.Name))) + ">";

    /// <summary>The method's <c>where</c> clauses, which the implementation and every generic helper repeat.</summary>
    private static string ConstraintClauses(IMethodSymbol method) =>
        string.Concat(method.TypeParameters.Select(parameter =>
        {
            var constraints = new List<string>();
            if (parameter.HasUnmanagedTypeConstraint)
            {
                constraints.Add("unmanaged");
            }
            else if (parameter.HasValueTypeConstraint)
            {
                constraints.Add("struct");
            }
            else if (parameter.HasReferenceTypeConstraint)
            {
                constraints.Add(parameter.ReferenceTypeConstraintNullableAnnotation == NullableAnnotation.Annotated ? "class?" : "class");
            }
            else if (parameter.HasNotNullConstraint)
            {
                constraints.Add("notnull");
            }

            constraints.AddRange(parameter.ConstraintTypes.Select(type => type.ToSource()));
            if (parameter.HasConstructorConstraint)
            {
                constraints.Add("new()");
            }

            return constraints.Count == 0 ? string.Empty : $" where {SymbolExtensions.EscapeIdentifier(parameter.Name)} : {string.Join(", ", constraints)}";
        }));

    private static TypeHierarchy BuildHierarchy(INamedTypeSymbol innermost)
    {
        var chain = new List<TypeDeclaration>();
        for (INamedTypeSymbol? type = innermost; type is not null; type = type.ContainingType)
        {
            string keyword = type.TypeKind switch
            {
                TypeKind.Interface => "interface",
                TypeKind.Struct => type.IsRecord ? "record struct" : "struct",
                _ => type.IsRecord ? "record" : "class",
            };
            string typeParameters = type.TypeParameters.IsEmpty
                ? string.Empty
                : "<" + string.Join(", ", type.TypeParameters.Select(VarianceAndName)) + ">";
            chain.Insert(0, new TypeDeclaration(keyword, SymbolExtensions.EscapeIdentifier(type.Name) + typeParameters, type.MetadataName));
        }

        string? ns = innermost.ContainingNamespace.IsGlobalNamespace ? null : innermost.ContainingNamespace.ToDisplayString();
        string metadataName = string.Join(".", chain.Select(type => type.MetadataName));
        for (INamespaceSymbol? containing = innermost.ContainingNamespace; containing is { IsGlobalNamespace: false }; containing = containing.ContainingNamespace)
        {
            metadataName = containing.MetadataName + "." + metadataName;
        }

        return new TypeHierarchy(ns, chain.ToEquatableArray(), metadataName, innermost.ContainingAssembly.Name);

        static string VarianceAndName(ITypeParameterSymbol parameter) => parameter.Variance switch
        {
            VarianceKind.In => "in ",
            VarianceKind.Out => "out ",
            _ => string.Empty,
        } + SymbolExtensions.EscapeIdentifier(parameter.Name);
    }

    private ParameterSpec ToParameterSpec(IParameterSymbol parameter, int index)
    {
        string modifier = parameter.IsParams ? "params " : index == 0 && _method.IsExtensionMethod ? "this " : string.Empty;

        // Only a stub carries these (they are LLMG006), but a stub must repeat them to implement the declaration.
        modifier += (parameter.ScopedKind != ScopedKind.None && parameter.RefKind != RefKind.Out ? "scoped " : string.Empty) + parameter.RefKind switch
        {
            RefKind.Ref => "ref ",
            RefKind.Out => "out ",
            RefKind.In => "in ",
            RefKind.RefReadOnlyParameter => "ref readonly ",
            _ => string.Empty,
        };
        return new ParameterSpec(SymbolExtensions.EscapeIdentifier(parameter.Name), parameter.Type.ToSource(), modifier, parameter.Type.IsCancellationToken());
    }

    /// <summary>Reports parameters a guarded call cannot carry; returns whether a throwing stub can still be written.</summary>
    private bool CheckParameters()
    {
        bool canStub = true;
        IParameterSymbol? firstToken = null;
        foreach (IParameterSymbol parameter in _method.Parameters)
        {
            string? problem = parameter.RefKind switch
            {
                RefKind.Ref => "passed by 'ref'",
                RefKind.Out => "an 'out' parameter",
                RefKind.In => "passed by 'in'",
                RefKind.None => null,
                _ => "passed by reference",
            };
            if (parameter.Type is IPointerTypeSymbol or IFunctionPointerTypeSymbol)
            {
                problem = "a pointer";
                canStub = false;
            }
            else if (problem is null && parameter.Type.IsRefLikeType)
            {
                problem = $"a ref struct ('{parameter.Type.ToMessage()}'), which cannot outlive the call";
            }

            if (problem is not null)
            {
                Report(DiagnosticDescriptors.UnsupportedParameter, ParameterLocation(parameter), parameter.Name, _display, problem);
            }

            if (parameter.Type.IsCancellationToken())
            {
                if (firstToken is null)
                {
                    firstToken = parameter;
                }
                else
                {
                    Report(DiagnosticDescriptors.MultipleCancellationTokens, ParameterLocation(parameter), _display, firstToken.Name, parameter.Name);
                }
            }
        }

        return canStub;
    }

    private static Location? ParameterLocation(IParameterSymbol parameter) =>
        parameter.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax() is ParameterSyntax syntax ? syntax.Identifier.GetLocation() : parameter.Locations.FirstOrDefault();

    /// <summary>
    /// How the result's token usage is read: a result (M.E.AI <c>ChatResponse</c>, <c>ChatResponse&lt;T&gt;</c> or any
    /// type) with a readable <c>UsageDetails Usage</c> property; <see langword="null"/> for every other result.
    /// </summary>
    /// <remarks>By symbol names, so the generator needs no reference to Microsoft.Extensions.AI.</remarks>
    private static UsageSpec? FindUsage(ITypeSymbol? resultType)
    {
        if (resultType is null or ITypeParameterSymbol || resultType.IsNullableValueType(out _))
        {
            return null;
        }

        IPropertySymbol? usage = FindReadableProperty(resultType, "Usage");
        if (usage is null || !usage.Type.Is("Microsoft.Extensions.AI", "UsageDetails"))
        {
            return null;
        }

        IPropertySymbol? modelId = FindReadableProperty(resultType, "ModelId");
        return new UsageSpec(
            CanBeNull: !resultType.IsValueType,
            ReadsModelId: modelId is not null && modelId.Type.SpecialType == SpecialType.System_String);
    }

    // The most derived property of that name, as member access in generated code would bind it; null when it is not a
    // public, non-indexer instance property with a public getter.
    private static IPropertySymbol? FindReadableProperty(ITypeSymbol type, string name)
    {
        for (ITypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            ISymbol? member = current.GetMembers(name).FirstOrDefault();
            if (member is null)
            {
                continue;
            }

            return member is IPropertySymbol { IsStatic: false, IsIndexer: false, DeclaredAccessibility: Accessibility.Public, GetMethod.DeclaredAccessibility: Accessibility.Public } property
                ? property
                : null;
        }

        return null;
    }

    // A streaming method shares one upstream per key among its consumers. Merge settings are refused rather than
    // ignored: each one set is reported, so the build names everything to remove at once.
    private void CheckStreamingSettings(AttributeValues values)
    {
        System.Globalization.CultureInfo invariant = System.Globalization.CultureInfo.InvariantCulture;
        if (values.MergeWindowMs > 0)
        {
            Unsupported("MergeWindowMs", values.MergeWindowMs.ToString(invariant));
        }

        if (values.Sliding)
        {
            Unsupported("MergeMode", "MergeMode.Sliding");
        }

        if (values.MergeMaxWaitMs != 0)
        {
            Unsupported("MergeMaxWaitMs", values.MergeMaxWaitMs.ToString(invariant));
        }

        if (values.Supersede)
        {
            Unsupported("Supersede", "true");
        }

        void Unsupported(string setting, string value) =>
            Report(DiagnosticDescriptors.MergeWindowOnStream, ArgumentLocation(setting), _display, setting + " = " + value);
    }

    // Only a stream has a first item, gaps between items and consumers to replay to; on any other method these
    // settings would be silently ignored.
    private void CheckStreamOnlySettings()
    {
        foreach (string setting in StreamOnlySettings)
        {
            if (_attribute.NamedArguments.Any(argument => argument.Key == setting))
            {
                Report(DiagnosticDescriptors.StreamingSettingWithoutStream, ArgumentLocation(setting), setting, _display, _method.ReturnType.ToMessage());
            }
        }
    }

    private static readonly string[] StreamOnlySettings = { "FirstItemTimeoutMs", "IdleTimeoutMs", "StreamReplayItems" };

    private ReturnShape? GetReturnShape(out ITypeSymbol? resultType)
    {
        resultType = null;
        ITypeSymbol returnType = _method.ReturnType;
        ReturnShape? shape = null;
        if (returnType is INamedTypeSymbol { IsGenericType: true, TypeArguments.Length: 1 } generic)
        {
            resultType = generic.TypeArguments[0];
            shape = returnType.Is("System.Threading.Tasks", "Task`1") ? ReturnShape.TaskOfT
                : returnType.Is("System.Threading.Tasks", "ValueTask`1") ? ReturnShape.ValueTaskOfT
                : returnType.Is("System.Collections.Generic", "IAsyncEnumerable`1") ? ReturnShape.AsyncEnumerable
                : null;
        }
        else
        {
            shape = returnType.Is("System.Threading.Tasks", "Task") ? ReturnShape.Task
                : returnType.Is("System.Threading.Tasks", "ValueTask") ? ReturnShape.ValueTask
                : null;
        }

        if (shape is null)
        {
            resultType = null;
            Report(DiagnosticDescriptors.UnsupportedReturnType, _syntax.ReturnType.GetLocation(), _display, returnType.ToMessage());
        }

        return shape;
    }

    private sealed class AttributeValues
    {
        public string? Scene { get; set; }

        public string? Key { get; set; }

        public int TimeoutMs { get; set; } = GuardDefaults.TimeoutMs;

        // Null when not set: the stream's deadlines then take TimeoutMs.
        public int? FirstItemTimeoutMs { get; set; }

        public int? IdleTimeoutMs { get; set; }

        public int StreamReplayItems { get; set; } = GuardDefaults.StreamReplayItems;

        public int MaxRetries { get; set; } = GuardDefaults.MaxRetries;

        public int RetryDelayMs { get; set; } = GuardDefaults.RetryDelayMs;

        public int MaxRetryAfterMs { get; set; } = GuardDefaults.MaxRetryAfterMs;

        public string? Fallback { get; set; }

        public string? Core { get; set; }

        public bool SingleFlight { get; set; } = true;

        public int MergeWindowMs { get; set; }

        public int MergeMode { get; set; }

        public int MergeMaxWaitMs { get; set; }

        public bool Supersede { get; set; }

        public int CacheSeconds { get; set; }

        public int MaxConcurrency { get; set; }

        public double BreakerFailureRatio { get; set; }

        public bool Merges => MergeWindowMs > 0;

        public bool Sliding => MergeMode == SlidingMergeMode;
    }

    // LlmGuard.MergeMode.Sliding; the attribute's enum arrives as its underlying number.
    private const int SlidingMergeMode = 1;

    private AttributeValues ReadAttribute(bool streams, bool checkStreamValues)
    {
        var values = new AttributeValues();
        foreach (KeyValuePair<string, TypedConstant> argument in _attribute.NamedArguments)
        {
            object? value = argument.Value.Kind == TypedConstantKind.Error ? null : argument.Value.Value;
            switch (argument.Key, value)
            {
                case ("Scene", string scene):
                    if (string.IsNullOrWhiteSpace(scene))
                    {
                        ReportValue("Scene", "\"" + scene + "\"", "a scene must contain text; leave it out to use the default, " + ContainingType.Name + "." + _method.Name);
                    }

                    values.Scene = scene;
                    break;
                case ("Key", string key):
                    values.Key = key;
                    break;
                case ("TimeoutMs", int timeout):
                    CheckTimeout("TimeoutMs", timeout, "no timeout");
                    values.TimeoutMs = timeout;
                    break;
                case ("FirstItemTimeoutMs", int firstItemTimeout):
                    if (checkStreamValues)
                    {
                        CheckTimeout("FirstItemTimeoutMs", firstItemTimeout, "no limit");
                    }

                    values.FirstItemTimeoutMs = firstItemTimeout;
                    break;
                case ("IdleTimeoutMs", int idleTimeout):
                    if (checkStreamValues)
                    {
                        CheckTimeout("IdleTimeoutMs", idleTimeout, "no limit");
                    }

                    values.IdleTimeoutMs = idleTimeout;
                    break;
                case ("StreamReplayItems", int replayItems):
                    if (checkStreamValues && (replayItems < 1 || replayItems > GuardDefaults.MaxStreamReplayItems))
                    {
                        ReportValue("StreamReplayItems", replayItems, $"use a value from 1 to {GuardDefaults.MaxStreamReplayItems}");
                    }

                    values.StreamReplayItems = replayItems;
                    break;
                case ("MaxRetries", int retries):
                    if (retries < 0 || retries > GuardDefaults.MaxRetriesLimit)
                    {
                        ReportValue("MaxRetries", retries, $"use a value from 0 to {GuardDefaults.MaxRetriesLimit}");
                    }

                    values.MaxRetries = retries;
                    break;
                case ("RetryDelayMs", int delay):
                    if (delay < 0 || delay > GuardDefaults.MaxMilliseconds)
                    {
                        ReportValue("RetryDelayMs", delay, $"use a value from 0 to {GuardDefaults.MaxMilliseconds} (one day)");
                    }

                    values.RetryDelayMs = delay;
                    break;
                case ("MaxRetryAfterMs", int maxRetryAfter):
                    if (maxRetryAfter < 0 || maxRetryAfter > GuardDefaults.MaxMilliseconds)
                    {
                        ReportValue("MaxRetryAfterMs", maxRetryAfter, $"use a value from 0 to {GuardDefaults.MaxMilliseconds} (one day)");
                    }

                    values.MaxRetryAfterMs = maxRetryAfter;
                    break;
                case ("Fallback", string fallback):
                    values.Fallback = fallback;
                    break;
                case ("Core", string core):
                    values.Core = core;
                    break;
                case ("SingleFlight", bool singleFlight):
                    values.SingleFlight = singleFlight;
                    break;
                case ("MergeWindowMs", int window):
                    if (window < 0 || window > GuardDefaults.MaxMilliseconds)
                    {
                        ReportValue("MergeWindowMs", window, $"use 0 for no merge window, or a value up to {GuardDefaults.MaxMilliseconds} (one day)");
                    }

                    values.MergeWindowMs = window;
                    break;
                case ("MergeMode", int mode):
                    values.MergeMode = mode;
                    break;
                case ("MergeMaxWaitMs", int maxWait):
                    values.MergeMaxWaitMs = maxWait;
                    break;
                case ("Supersede", bool supersede):
                    values.Supersede = supersede;
                    break;
                case ("CacheSeconds", int cacheSeconds):
                    if (cacheSeconds < 0 || cacheSeconds > GuardDefaults.MaxCacheSeconds)
                    {
                        Report(
                            DiagnosticDescriptors.CacheSecondsOutOfRange,
                            ArgumentLocation("CacheSeconds"),
                            cacheSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                            _display,
                            GuardDefaults.MaxCacheSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    }

                    values.CacheSeconds = cacheSeconds;
                    break;
                case ("MaxConcurrency", int maxConcurrency):
                    if (maxConcurrency < 0)
                    {
                        Report(DiagnosticDescriptors.MaxConcurrencyOutOfRange, ArgumentLocation("MaxConcurrency"), maxConcurrency.ToString(System.Globalization.CultureInfo.InvariantCulture), _display);
                    }

                    values.MaxConcurrency = maxConcurrency;
                    break;
                case ("BreakerFailureRatio", double ratio):
                    // Written so that NaN is out of range too.
                    if (!(ratio >= 0 && ratio <= 1))
                    {
                        Report(DiagnosticDescriptors.BreakerFailureRatioOutOfRange, ArgumentLocation("BreakerFailureRatio"), ratio.ToString("R", System.Globalization.CultureInfo.InvariantCulture), _display);
                    }

                    values.BreakerFailureRatio = ratio;
                    break;
            }
        }

        // A stream's merge settings are LLMG031 whatever their values.
        if (!streams)
        {
            CheckMergeValues(values);
        }

        if (values.CacheSeconds > 0 && !values.SingleFlight)
        {
            ReportValue("SingleFlight", "false", "a cached answer is found by the call's key, and SingleFlight = false builds none");
        }

        return values;

        void ReportValue(string name, object value, string rule) =>
            Report(DiagnosticDescriptors.InvalidAttributeValue, ArgumentLocation(name), name, value.ToString(), _display, rule);

        void CheckTimeout(string name, int milliseconds, string zero)
        {
            if (milliseconds != 0 && (milliseconds < GuardDefaults.MinTimeoutMs || milliseconds > GuardDefaults.MaxMilliseconds))
            {
                ReportValue(name, milliseconds, $"use 0 for {zero}, or a value from {GuardDefaults.MinTimeoutMs} to {GuardDefaults.MaxMilliseconds} (one day)");
            }
        }
    }

    private void CheckMergeValues(AttributeValues values)
    {
        string? problem = null;
        string name = "MergeWindowMs";
        object value = values.MergeWindowMs;
        if (values.Merges && !values.SingleFlight)
        {
            (name, value, problem) = ("SingleFlight", "false", "a merge window shares its execution among the calls it merges, so it cannot be combined with SingleFlight = false");
        }
        else if (values.Merges && values.Sliding && (values.MergeMaxWaitMs < values.MergeWindowMs || values.MergeMaxWaitMs > GuardDefaults.MaxMilliseconds))
        {
            (name, value, problem) = ("MergeMaxWaitMs", values.MergeMaxWaitMs, $"a sliding window needs a cap from MergeWindowMs ({values.MergeWindowMs}) to {GuardDefaults.MaxMilliseconds}");
        }
        else if (!values.Merges && (values.Sliding || values.MergeMaxWaitMs != 0 || values.Supersede))
        {
            (name, value) = values.Supersede ? ("Supersede", "true") : values.Sliding ? ("MergeMode", "MergeMode.Sliding") : ("MergeMaxWaitMs", (object)values.MergeMaxWaitMs);
            problem = "it has no effect without a merge window; set MergeWindowMs too";
        }
        else if (values.Merges && !values.Sliding && values.MergeMaxWaitMs != 0)
        {
            (name, value, problem) = ("MergeMaxWaitMs", values.MergeMaxWaitMs, "it caps sliding windows only; set MergeMode = MergeMode.Sliding or remove it");
        }

        if (problem is not null)
        {
            // A missing cap is reported where the sliding mode is asked for.
            bool written = _attribute.NamedArguments.Any(argument => argument.Key == name);
            Location location = written || name != "MergeMaxWaitMs" ? ArgumentLocation(name) : ArgumentLocation("MergeMode");
            Report(DiagnosticDescriptors.InvalidAttributeValue, location, name, value.ToString(), _display, problem);
        }
    }

    private Location ArgumentLocation(string name)
    {
        if (_attribute.ApplicationSyntaxReference?.GetSyntax(_cancellationToken) is AttributeSyntax { ArgumentList: { } list })
        {
            foreach (AttributeArgumentSyntax argument in list.Arguments)
            {
                if (argument.NameEquals?.Name.Identifier.Text == name)
                {
                    return argument.Expression.GetLocation();
                }
            }
        }

        return MethodLocation;
    }

    private KeySpec? BuildKey(AttributeValues values)
    {
        string scene = values.Scene ?? ContainingType.Name + "." + _method.Name;
        ImmutableArray<KeyTemplatePart> parts;
        string template;
        if (!values.SingleFlight && !values.Merges)
        {
            // No call is ever shared, so no key is built and the parameters need no text form.
            if (values.Key is not null)
            {
                Report(DiagnosticDescriptors.InvalidAttributeValue, ArgumentLocation("Key"), "Key", "\"" + values.Key + "\"", _display, "with SingleFlight = false no call is shared, so no key is built; remove one of them");
            }

            return new KeySpec(scene, string.Empty, string.Empty, EquatableArray<KeySegment>.Empty, EquatableArray<string>.Empty);
        }

        if (values.Key is null)
        {
            parts = ImplicitKeyParts();
            template = string.Join(":", parts.Where(p => p.IsPlaceholder).Select(p => "{" + p.Path[0] + "}"));
        }
        else
        {
            template = values.Key;
            parts = KeyTemplate.Parse(template, out string? error);
            if (error is not null)
            {
                Report(DiagnosticDescriptors.InvalidKeyTemplate, ArgumentLocation("Key"), template, _display, error);
                return null;
            }
        }

        var segments = ImmutableArray.CreateBuilder<KeySegment>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        bool valid = true;
        foreach (KeyTemplatePart part in parts)
        {
            if (part.ContextName is { } contextName)
            {
                if (KeyTemplate.ContextProperty(contextName) is { } property)
                {
                    segments.Add(KeySegment.CallContext(property));
                }
                else
                {
                    Report(DiagnosticDescriptors.UnknownContextPlaceholder, ArgumentLocation("Key"), _display, "{$" + contextName + "}", KeyTemplate.ContextPlaceholders);
                    valid = false;
                }

                continue;
            }

            if (!part.IsPlaceholder)
            {
                segments.Add(KeySegment.Literal(part.Literal));
                continue;
            }

            used.Add(part.Path[0]);
            KeySegment? segment = ResolvePlaceholder(part.Path, explicitKey: values.Key is not null);
            if (segment is null)
            {
                valid = false;
            }
            else
            {
                segments.Add(segment);
            }
        }

        if (values.Key is not null)
        {
            foreach (IParameterSymbol parameter in _method.Parameters)
            {
                if (!used.Contains(parameter.Name) && !parameter.Type.IsCancellationToken() && !IsNotInKey(parameter) && MergeAppendOf(parameter) is null)
                {
                    Report(DiagnosticDescriptors.KeyOmitsParameter, ParameterLocation(parameter), _display, parameter.Name);
                }
                else if (used.Contains(parameter.Name) && IsNotInKey(parameter))
                {
                    Report(DiagnosticDescriptors.NotInKeyParameterInKey, ParameterLocation(parameter), parameter.Name, _display);
                }
            }
        }

        EquatableArray<string> keyParameters = _method.Parameters
            .Where(parameter => used.Contains(parameter.Name))
            .Select(parameter => SymbolExtensions.EscapeIdentifier(parameter.Name))
            .ToEquatableArray();
        return valid ? new KeySpec(scene, template, KeyTemplate.ReservedCharacters(parts), segments.ToEquatableArray(), keyParameters) : null;
    }

    private ImmutableArray<KeyTemplatePart> ImplicitKeyParts()
    {
        var parts = ImmutableArray.CreateBuilder<KeyTemplatePart>();
        foreach (IParameterSymbol parameter in _method.Parameters)
        {
            bool refused = parameter.RefKind != RefKind.None || parameter.Type is IPointerTypeSymbol or IFunctionPointerTypeSymbol || parameter.Type.IsRefLikeType;
            if (refused || parameter.Type.IsCancellationToken() || IsNotInKey(parameter) || MergeAppendOf(parameter) is not null)
            {
                continue;
            }

            if (parts.Count > 0)
            {
                parts.Add(KeyTemplatePart.ForLiteral(":"));
            }

            parts.Add(KeyTemplatePart.ForPlaceholder(ImmutableArray.Create(parameter.Name)));
        }

        return parts.ToImmutable();
    }

    private static AttributeData? MergeAppendOf(IParameterSymbol parameter) =>
        parameter.GetAttributes().FirstOrDefault(a => a.AttributeClass.Is("LlmGuard", "MergeAppendAttribute"));

    private EquatableArray<AppendSpec> FindAppends(AttributeValues values, bool streams)
    {
        var appends = new List<AppendSpec>();
        ImmutableArray<KeyTemplatePart> keyParts = values.Key is null ? ImmutableArray<KeyTemplatePart>.Empty : KeyTemplate.Parse(values.Key, out _);
        foreach (IParameterSymbol parameter in _method.Parameters)
        {
            if (MergeAppendOf(parameter) is not { } attribute)
            {
                continue;
            }

            if (streams)
            {
                Report(DiagnosticDescriptors.MergeWindowOnStream, ParameterLocation(parameter), _display, $"[MergeAppend] on parameter '{parameter.Name}'");
                continue;
            }

            AppendKind? kind = AppendKindOf(parameter.Type);
            string? problem =
                !values.Merges ? "only calls merged by a merge window have values to collect; set MergeWindowMs"
                : kind is null ? $"its type '{parameter.Type.ToMessage()}' is neither a string nor an array, List<T> or a collection interface that List<T> implements"
                : !keyParts.IsDefault && keyParts.Any(part => part.IsPlaceholder && part.Path[0] == parameter.Name) ? "the key names it, but merged calls differ in it; leave it out of Key"
                : null;
            if (problem is not null)
            {
                Report(DiagnosticDescriptors.InvalidMergeAppend, ParameterLocation(parameter), parameter.Name, _display, problem);
                continue;
            }

            string separator = attribute.NamedArguments.FirstOrDefault(a => a.Key == "Separator").Value.Value as string ?? "\n";
            appends.Add(new AppendSpec(SymbolExtensions.EscapeIdentifier(parameter.Name), kind!.Value, separator));
        }

        return appends.ToEquatableArray();
    }

    private static AppendKind? AppendKindOf(ITypeSymbol type)
    {
        if (type.SpecialType == SpecialType.System_String)
        {
            return AppendKind.String;
        }

        if (type is IArrayTypeSymbol { Rank: 1 })
        {
            return AppendKind.Array;
        }

        bool listCompatible = type is INamedTypeSymbol { TypeArguments.Length: 1 } named
            && named.ContainingNamespace?.ToDisplayString() == "System.Collections.Generic"
            && named.MetadataName is "List`1" or "IEnumerable`1" or "IReadOnlyList`1" or "IReadOnlyCollection`1" or "IList`1" or "ICollection`1";
        return listCompatible ? AppendKind.List : null;
    }

    private static bool IsNotInKey(IParameterSymbol parameter) =>
        parameter.GetAttributes().Any(a => a.AttributeClass.Is("LlmGuard", "NotInKeyAttribute"));

    /// <summary>Resolves <c>{name.A.B}</c> to a null-safe expression over the parameter, and how to render its value.</summary>
    private KeySegment? ResolvePlaceholder(ImmutableArray<string> path, bool explicitKey)
    {
        string placeholder = string.Join(".", path);
        IParameterSymbol? parameter = _method.Parameters.FirstOrDefault(p => p.Name == path[0]);
        if (parameter is null)
        {
            Report(DiagnosticDescriptors.UnknownKeyName, ArgumentLocation("Key"), _display, placeholder, $"'{path[0]}' is not a parameter of the method");
            return null;
        }

        if (parameter.Type.IsCancellationToken())
        {
            Report(DiagnosticDescriptors.UnknownKeyName, ArgumentLocation("Key"), _display, placeholder, $"'{path[0]}' is the cancellation token, which is never part of a key");
            return null;
        }

        ITypeSymbol type = parameter.Type;
        string expression = SymbolExtensions.EscapeIdentifier(parameter.Name);
        for (int i = 1; i < path.Length; i++)
        {
            ITypeSymbol owner = type.IsNullableValueType(out ITypeSymbol underlying) ? underlying : type;
            bool nullable = type.IsReferenceType || !ReferenceEquals(owner, type);
            ISymbol? member = FindReadableMember(owner, path[i]);
            if (member is null)
            {
                Report(DiagnosticDescriptors.UnknownKeyName, ArgumentLocation("Key"), _display, placeholder, $"'{owner.ToMessage()}' has no readable instance field or property '{path[i]}'");
                return null;
            }

            expression += (nullable ? "?." : ".") + SymbolExtensions.EscapeIdentifier(member.Name);
            type = member is IPropertySymbol property ? property.Type : ((IFieldSymbol)member).Type;
        }

        bool nullableValue = type.IsNullableValueType(out ITypeSymbol valueType);
        KeySegmentKind? kind = ClassifyText(valueType);
        string? unstableMember = kind == KeySegmentKind.ToStringOverride ? UnstableRecordMember(valueType, depth: 0) : null;
        if (kind is null || unstableMember is not null)
        {
            string why = unstableMember is null
                ? "which neither overrides ToString nor implements IFormattable"
                : $"a record whose ToString prints {unstableMember} by its type name";
            var remedies = new List<string>();
            if (valueType.TypeKind is TypeKind.Class or TypeKind.Struct && valueType.SpecialType == SpecialType.None)
            {
                remedies.Add(explicitKey
                    ? "name members of it that have a stable text form"
                    : $"give the method a Key template that names members of it with a stable text form (for example Key = \"{{{parameter.Name}.Id}}\")");
            }

            if (!explicitKey)
            {
                remedies.Add("mark the parameter [NotInKey]");
            }

            if (unstableMember is null && valueType.TypeKind is TypeKind.Class or TypeKind.Struct && valueType.Locations.Any(l => l.IsInSource))
            {
                remedies.Add($"override ToString or implement IFormattable in '{valueType.ToMessage()}'");
            }

            if (remedies.Count == 0)
            {
                remedies.Add("name the parameters that identify the call in Key instead");
            }

            Location? location = explicitKey ? ArgumentLocation("Key") : ParameterLocation(parameter);
            Report(DiagnosticDescriptors.KeyPartWithoutStableText, location, placeholder, _display, valueType.ToMessage(), why, string.Join(", or ", remedies));
            return null;
        }

        if (kind == KeySegmentKind.ToStringOverride)
        {
            // Inside a conditional chain a value type's ToString still runs only when the chain has a value.
            bool plainValue = valueType.IsValueType && !nullableValue;
            expression += plainValue ? ".ToString()" : "?.ToString()";
            kind = KeySegmentKind.String;
        }

        // DateTime's default invariant text drops fractions of a second; "O" keeps every tick.
        string? format = valueType.SpecialType == SpecialType.System_DateTime || valueType.Is("System", "DateTimeOffset") ? "O" : null;
        return new KeySegment(kind.Value, expression, format);
    }

    private ISymbol? FindReadableMember(ITypeSymbol owner, string name)
    {
        IEnumerable<ITypeSymbol> searched = owner.TypeKind == TypeKind.Interface
            ? new[] { owner }.Concat(owner.AllInterfaces)
            : BaseTypesAndSelf(owner);
        foreach (ITypeSymbol type in searched)
        {
            foreach (ISymbol member in type.GetMembers(name))
            {
                bool readable = member switch
                {
                    IPropertySymbol { IsStatic: false, IsIndexer: false, GetMethod: not null, RefKind: RefKind.None } property =>
                        _compilation.IsSymbolAccessibleWithin(property.GetMethod, ContainingType, owner),
                    IFieldSymbol { IsStatic: false, RefKind: RefKind.None } field => _compilation.IsSymbolAccessibleWithin(field, ContainingType, owner),
                    _ => false,
                };
                if (readable)
                {
                    return member;
                }
            }
        }

        return null;

        static IEnumerable<ITypeSymbol> BaseTypesAndSelf(ITypeSymbol type)
        {
            for (ITypeSymbol? current = type; current is not null; current = current.BaseType)
            {
                yield return current;
            }
        }
    }

    /// <summary>How a value of this type becomes key text, or <see langword="null"/> when it has no stable text form.</summary>
    private static KeySegmentKind? ClassifyText(ITypeSymbol type) =>
        type is ITypeParameterSymbol parameter ? ClassifyConstrainedText(parameter)
        : type.SpecialType == SpecialType.System_String ? KeySegmentKind.String
        : type.Implements("System", "ISpanFormattable") ? KeySegmentKind.SpanFormattable
        : type.Implements("System", "IFormattable") ? KeySegmentKind.Formattable
        : type.TypeKind is not TypeKind.Interface and not TypeKind.TypeParameter and not TypeKind.Array && type.OverridesToString() ? KeySegmentKind.ToStringOverride
        : null;

    /// <summary>
    /// A record's generated ToString prints its public members with their own ToString: a collection member prints
    /// its type name, so records that differ only there would render equal keys. Names the first such member.
    /// </summary>
    private static string? UnstableRecordMember(ITypeSymbol type, int depth)
    {
        bool generatedToString = type.IsRecord && type.GetMembers("ToString").OfType<IMethodSymbol>().Any(m => m.Parameters.IsEmpty && m.IsImplicitlyDeclared);
        if (!generatedToString || depth > 3)
        {
            return null;
        }

        foreach (ISymbol member in type.GetMembers())
        {
            ITypeSymbol? memberType = member switch
            {
                IPropertySymbol { IsStatic: false, IsIndexer: false, DeclaredAccessibility: Accessibility.Public, GetMethod: not null } property => property.Type,
                IFieldSymbol { IsStatic: false, DeclaredAccessibility: Accessibility.Public } field => field.Type,
                _ => null,
            };
            if (memberType is null || member.Name == "EqualityContract")
            {
                continue;
            }

            memberType.IsNullableValueType(out ITypeSymbol printed);
            KeySegmentKind? kind = ClassifyText(printed);
            if (kind is null)
            {
                return $"its member '{member.Name}' of type '{memberType.ToMessage()}'";
            }

            if (kind == KeySegmentKind.ToStringOverride && UnstableRecordMember(printed, depth + 1) is { } nested)
            {
                return nested;
            }
        }

        return type.BaseType is { } baseType ? UnstableRecordMember(baseType, depth + 1) : null;
    }

    /// <summary>A type parameter has a stable text form only through what its constraints promise.</summary>
    private static KeySegmentKind? ClassifyConstrainedText(ITypeParameterSymbol parameter) =>
        parameter.ConstraintTypes.Any(c => c.Implements("System", "ISpanFormattable")) ? KeySegmentKind.SpanFormattable
        : parameter.ConstraintTypes.Any(c => c.Implements("System", "IFormattable")) ? KeySegmentKind.Formattable
        : null;

    private void CheckCore(string coreName)
    {
        Location location = _attribute.NamedArguments.Any(a => a.Key == "Core") ? ArgumentLocation("Core") : MethodLocation;
        IMethodSymbol[] candidates = ContainingType.GetMembers(coreName).OfType<IMethodSymbol>()
            .Where(m => m.MethodKind == MethodKind.Ordinary)
            .ToArray();
        if (candidates.Length == 0)
        {
            Report(DiagnosticDescriptors.CoreNotFound, location, _display, coreName);
            return;
        }

        if (candidates.Any(IsMatchingCore))
        {
            return;
        }

        IMethodSymbol closest = candidates.FirstOrDefault(c => !SymbolEqualityComparer.Default.Equals(c, _method)) ?? candidates[0];
        IMethodSymbol? aligned = AlignTypeParameters(closest);
        string reason =
            SymbolEqualityComparer.Default.Equals(closest, _method) ? "the core cannot be the guarded method itself; name the method that calls the model"
            : closest.IsStatic != _method.IsStatic ? (_method.IsStatic ? "it must be static, like the guarded method" : "it must not be static, like the guarded method")
            : aligned is null || closest.Arity != _method.Arity ? $"it must have {_method.Arity} type parameter(s), like the guarded method"
            : !SameParameters(aligned.Parameters) ? $"it must take ({ParameterList(_method.Parameters)})"
            : $"it must return {_method.ReturnType.ToMessage()}";
        Report(DiagnosticDescriptors.CoreSignatureMismatch, location, closest.DisplayName(), _display, reason);
    }

    /// <summary>
    /// A cached answer is served to every later call with the same key, so the key must hold everything that shapes
    /// the answer (LLMG024) and tell users apart (LLMG025).
    /// </summary>
    private void CheckCachedKey(AttributeValues values, KeySpec key, string coreName)
    {
        bool InKey(IParameterSymbol parameter) => key.Parameters.Contains(SymbolExtensions.EscapeIdentifier(parameter.Name));

        bool partitioned = key.Segments.Any(segment => segment.Kind == KeySegmentKind.CallContext && segment.Expression is "Tenant" or "User" or "Conversation")
            || _method.Parameters.Any(parameter => InKey(parameter) && HasAttribute(parameter, "CachePartitionAttribute"));
        if (!partitioned)
        {
            Report(DiagnosticDescriptors.CachedKeyWithoutPartition, values.Key is null ? MethodLocation : ArgumentLocation("Key"), _display);
        }

        // A core that does not match is LLMG004/LLMG005 already; there is no body to read.
        IMethodSymbol? core = ContainingType.GetMembers(coreName).OfType<IMethodSymbol>().FirstOrDefault(m => m.MethodKind == MethodKind.Ordinary && IsMatchingCore(m));
        if (core is null)
        {
            return;
        }

        for (int i = 0; i < _method.Parameters.Length; i++)
        {
            IParameterSymbol parameter = _method.Parameters[i];
            if (parameter.Type.IsCancellationToken() || HasAttribute(parameter, "DoesNotAffectAnswerAttribute"))
            {
                continue;
            }

            if (!InKey(parameter))
            {
                if (CoreReadsOf(core, i).Any())
                {
                    Report(DiagnosticDescriptors.CachedCoreReadsParameterOutsideKey, ParameterLocation(parameter), _display, core.Name, parameter.Name);
                }

                continue;
            }

            // In the key only through some of its members ({request.Session}): a member the core reads beside them
            // changes the answer as a parameter outside the key does.
            if (KeyMembersOf(key, parameter) is { } keyMembers
                && CoreReadsOf(core, i).Select(FirstMemberRead).FirstOrDefault(member => member is not null && !keyMembers.Contains(member)) is { } unkeyed)
            {
                Report(DiagnosticDescriptors.CachedCoreReadsParameterOutsideKey, ParameterLocation(parameter), _display, core.Name, parameter.Name + "." + unkeyed);
            }
        }
    }

    /// <summary>
    /// The first members of <paramref name="parameter"/> the key renders (<c>Session</c> of <c>{request.Session}</c>);
    /// <see langword="null"/> when the key renders the parameter itself, which covers all of it.
    /// </summary>
    private static HashSet<string>? KeyMembersOf(KeySpec key, IParameterSymbol parameter)
    {
        string name = SymbolExtensions.EscapeIdentifier(parameter.Name);
        var members = new HashSet<string>(StringComparer.Ordinal);
        foreach (KeySegment segment in key.Segments)
        {
            if (segment.Kind is KeySegmentKind.Literal or KeySegmentKind.CallContext)
            {
                continue;
            }

            string[] path = segment.Expression.Replace("?", string.Empty).Split('.');
            if (path[0] != name)
            {
                continue;
            }

            // The parameter itself, or its ToString() when its type overrides it.
            if (path.Length == 1 || path[1].EndsWith("()", StringComparison.Ordinal))
            {
                return null;
            }

            members.Add(path[1].TrimStart('@'));
        }

        return members;
    }

    /// <summary>
    /// The field or property a read of a parameter goes to first (<c>ContentVersion</c> of <c>request.ContentVersion</c>
    /// or <c>request?.ContentVersion</c>); <see langword="null"/> when the parameter is used whole, passed on, compared or
    /// has a method called on it, which this check cannot follow.
    /// </summary>
    private static string? FirstMemberRead(IdentifierNameSyntax read)
    {
        ExpressionSyntax? member = read.Parent switch
        {
            MemberAccessExpressionSyntax access when access.Expression == read => access,
            ConditionalAccessExpressionSyntax conditional when conditional.Expression == read =>
                conditional.WhenNotNull.DescendantNodesAndSelf().OfType<MemberBindingExpressionSyntax>().FirstOrDefault(),
            _ => null,
        };

        return member?.Parent is InvocationExpressionSyntax invocation && invocation.Expression == member
            ? null
            : member switch
            {
                MemberAccessExpressionSyntax access => access.Name.Identifier.ValueText,
                MemberBindingExpressionSyntax binding => binding.Name.Identifier.ValueText,
                _ => null,
            };
    }

    /// <summary>
    /// The [SemanticCacheText] parameter (LLMG026 when it cannot be compared) and the scope of its lookups: the key
    /// without it, so only the compared text may differ between a call and the answer it is served.
    /// </summary>
    private SemanticSpec? FindSemanticText(AttributeValues values, KeySpec? key, bool streams)
    {
        IParameterSymbol[] marked = _method.Parameters.Where(parameter => HasAttribute(parameter, "SemanticCacheTextAttribute")).ToArray();
        if (marked.Length == 0)
        {
            return null;
        }

        bool valid = true;
        foreach (IParameterSymbol extra in marked.Skip(1))
        {
            Report(DiagnosticDescriptors.InvalidSemanticCacheText, ParameterLocation(extra), extra.Name, _display, $"'{marked[0].Name}' is marked too, and one text is compared; mark only the parameter whose meaning the answer depends on");
            valid = false;
        }

        IParameterSymbol parameter = marked[0];
        string name = SymbolExtensions.EscapeIdentifier(parameter.Name);
        string? problem =
            streams ? "the method streams its answer, and only the answers of methods that return a task are compared by meaning"
            : parameter.Type.SpecialType != SpecialType.System_String ? $"it is of type '{parameter.Type.ToMessage()}', and only a string's text is embedded"
            : values.CacheSeconds <= 0 ? "the method caches nothing, and the semantic cache serves cached answers; set CacheSeconds above 0"
            : !values.SingleFlight ? "with SingleFlight = false no key is built, so no answer is cached to compare with"
            : key is not null && !key.Parameters.Contains(name) ? "it is not in the key, so answers to other texts are already served without comparing; name it in the Key template (or remove [NotInKey])"
            : null;
        if (problem is not null)
        {
            Report(DiagnosticDescriptors.InvalidSemanticCacheText, ParameterLocation(parameter), parameter.Name, _display, problem);
            valid = false;
        }

        if (!valid || key is null)
        {
            return null;
        }

        // A string placeholder renders as the parameter itself or a member chain starting with it. Its literal neighbours
        // stay, so two placeholders never end up side by side.
        EquatableArray<KeySegment> segments = key.Segments
            .Where(segment => segment.Kind == KeySegmentKind.Literal || segment.Kind == KeySegmentKind.CallContext
                || (segment.Expression != name && !segment.Expression.StartsWith(name + "?.", StringComparison.Ordinal) && !segment.Expression.StartsWith(name + ".", StringComparison.Ordinal)))
            .ToEquatableArray();
        EquatableArray<string> parameters = key.Parameters.Where(other => other != name).ToEquatableArray();
        return new SemanticSpec(name, key with { Segments = segments, Parameters = parameters });
    }

    /// <summary>Where the core's body names its parameter at <paramref name="ordinal"/>, except inside <c>nameof</c>.</summary>
    private IEnumerable<IdentifierNameSyntax> CoreReadsOf(IMethodSymbol core, int ordinal)
    {
        IParameterSymbol target = (core.PartialImplementationPart ?? core).Parameters[ordinal];
        foreach (SyntaxReference reference in (core.PartialImplementationPart ?? core).DeclaringSyntaxReferences)
        {
            if (reference.GetSyntax(_cancellationToken) is not BaseMethodDeclarationSyntax declaration)
            {
                continue;
            }

            SyntaxNode? body = (SyntaxNode?)declaration.Body ?? declaration.ExpressionBody;
            if (body is null)
            {
                continue;
            }

            SemanticModel model = body.SyntaxTree == _semanticModel.SyntaxTree ? _semanticModel : _compilation.GetSemanticModel(body.SyntaxTree);
            foreach (IdentifierNameSyntax name in body.DescendantNodes().OfType<IdentifierNameSyntax>())
            {
                _cancellationToken.ThrowIfCancellationRequested();
                if (name.Identifier.ValueText == target.Name
                    && SymbolEqualityComparer.Default.Equals(model.GetSymbolInfo(name, _cancellationToken).Symbol, target)
                    && !InsideNameOf(name, model))
                {
                    yield return name;
                }
            }
        }

        bool InsideNameOf(SyntaxNode node, SemanticModel model) =>
            node.Ancestors().OfType<InvocationExpressionSyntax>().Any(invocation =>
                invocation.Expression is IdentifierNameSyntax { Identifier.ValueText: "nameof" }
                && model.GetSymbolInfo(invocation.Expression, _cancellationToken).Symbol is null);
    }

    private static bool HasAttribute(IParameterSymbol parameter, string metadataName) =>
        parameter.GetAttributes().Any(a => a.AttributeClass.Is("LlmGuard", metadataName));

    private bool IsMatchingCore(IMethodSymbol candidate) =>
        !SymbolEqualityComparer.Default.Equals(candidate, _method)
        && candidate.IsStatic == _method.IsStatic
        && candidate.Arity == _method.Arity
        && AlignTypeParameters(candidate) is { } aligned
        && SameParameters(aligned.Parameters)
        && SymbolEqualityComparer.Default.Equals(aligned.ReturnType, _method.ReturnType);

    private IMethodSymbol? AlignTypeParameters(IMethodSymbol candidate) => candidate.AlignedWith(_method);

    private bool SameParameters(ImmutableArray<IParameterSymbol> parameters) =>
        parameters.Length == _method.Parameters.Length
        && parameters.Zip(_method.Parameters, (a, b) => a.RefKind == RefKind.None && SymbolEqualityComparer.Default.Equals(a.Type, b.Type)).All(same => same);

    private static string ParameterList(IEnumerable<IParameterSymbol> parameters) =>
        string.Join(", ", parameters.Select(p => p.Type.ToMessage() + " " + p.Name));

    private FallbackSpec? FindFallback(string name, bool streams, ITypeSymbol? resultType)
    {
        Location location = ArgumentLocation("Fallback");
        IMethodSymbol[] candidates = FallbackMatching.Candidates(_method, name);
        if (candidates.Length == 0)
        {
            Report(DiagnosticDescriptors.FallbackNotFound, location, _display, name, ContainingType.Name);
            return null;
        }

        if (FallbackMatching.NamesItselfOnly(_method, candidates))
        {
            Report(DiagnosticDescriptors.FallbackCycle, location, _display, _display + " -> " + _display);
            return null;
        }

        if (FallbackMatching.Match(_method, resultType, name, out IMethodSymbol? target) is { } spec)
        {
            if (spec.Scene is not null && FallbackMatching.FindCycle(_method, target!, _cancellationToken) is { } cycle)
            {
                Report(DiagnosticDescriptors.FallbackCycle, location, _display, string.Join(" -> ", cycle.Select(m => m.DisplayName())));
                return null;
            }

            return spec;
        }

        string result = streams ? $"IAsyncEnumerable<{resultType!.ToMessage()}>, as a streaming method does"
            : resultType is null ? "Task or ValueTask"
            : $"Task<{resultType.ToMessage()}> or ValueTask<{resultType.ToMessage()}>";
        string staticRule = _method.IsStatic ? ", and be static like the guarded method" : string.Empty;
        if (candidates.Any(c => !SymbolEqualityComparer.Default.Equals(c, _method) && FallbackMatching.IsGuarded(c)))
        {
            string values = ParameterList(_method.Parameters.Where(p => !p.Type.IsCancellationToken()));
            string token = _method.Parameters.Any(p => p.Type.IsCancellationToken())
                ? " and a CancellationToken, so that a cancelled execution stops the chain,"
                : ", optionally with a CancellationToken,";
            Report(DiagnosticDescriptors.FallbackChainSignatureMismatch, location, name, _display, $"take ({values}) in this order{token} and return {result}{staticRule}");
            return null;
        }

        string withoutToken = ParameterList(_method.Parameters.Where(p => !p.Type.IsCancellationToken()));
        string withToken = ParameterList(_method.Parameters);
        string parameters = withToken == withoutToken ? $"({withToken})" : $"({withToken}) or ({withoutToken})";
        string plainResult = streams ? $"IAsyncEnumerable<{resultType!.ToMessage()}> (a stream's fallback must return IAsyncEnumerable<T>: it streams the answer in place of the upstream)"
            : resultType is null ? "void, Task or ValueTask"
            : $"{resultType.ToMessage()}, Task<{resultType.ToMessage()}> or ValueTask<{resultType.ToMessage()}>";
        Report(DiagnosticDescriptors.FallbackSignatureMismatch, location, name, _display, $"take {parameters}, optionally followed by an Exception, and return {plainResult}{staticRule}");
        return null;
    }

    private RuntimeSpec FindRuntime()
    {
        ISymbol[] members = ContainingType.GetMembers()
            .Where(m => m switch
            {
                IFieldSymbol field => !field.IsImplicitlyDeclared && field.Type.IsGuardRuntime(),
                IPropertySymbol property => !property.IsIndexer && property.GetMethod is not null && property.Type.IsGuardRuntime(),
                _ => false,
            })
            .ToArray();
        if (members.Length == 0)
        {
            // A primary-constructor parameter counts only when no field or property holds the runtime already.
            members = ContainingType.InstanceConstructors
                .Where(c => c.DeclaringSyntaxReferences.Any(r => r.GetSyntax(_cancellationToken) is TypeDeclarationSyntax))
                .SelectMany(c => c.Parameters)
                .Where(p => p.Type.IsGuardRuntime())
                .ToArray<ISymbol>();
        }

        if (members.Length > 1)
        {
            // Every guarded method of the type fails; the type's first one says why, once.
            IMethodSymbol firstGuarded = ContainingType.GetMembers().OfType<IMethodSymbol>()
                .First(m => m.GetAttributes().Any(a => a.AttributeClass.Is("LlmGuard", "GuardedAttribute")));
            DiagnosticInfo error = DiagnosticInfo.Create(DiagnosticDescriptors.MultipleRuntimeMembers, ContainingType.Locations.FirstOrDefault(), ContainingType.Name, string.Join(", ", members.Select(m => m.Name)));
            _diagnostics.Add(SymbolEqualityComparer.Default.Equals(firstGuarded, _method) ? error : error with { Silent = true });
            return new RuntimeSpec(null, IsStatic: true);
        }

        if (members.Length == 0)
        {
            return new RuntimeSpec(null, IsStatic: true);
        }

        ISymbol member = members[0];
        if (_method.IsStatic && !member.IsStatic)
        {
            string remedy = member is IParameterSymbol
                ? "keep the runtime in a static field or property, or make the method an instance method"
                : $"make '{member.Name}' static, or make the method an instance method";
            Report(DiagnosticDescriptors.StaticMethodWithInstanceRuntime, MethodLocation, _display, member.Name, remedy);
        }

        string name = SymbolExtensions.EscapeIdentifier(member.Name);
        string expression = member is IParameterSymbol || member.IsStatic ? name : "this." + name;
        return new RuntimeSpec(expression, member.IsStatic);
    }
}
