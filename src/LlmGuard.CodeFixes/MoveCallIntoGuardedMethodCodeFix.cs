using System.Collections.Generic;
using System.Collections.Immutable;
using System.Composition;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Generators.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CodeActions;
using Microsoft.CodeAnalysis.CodeFixes;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Formatting;
using Microsoft.CodeAnalysis.Operations;
using Microsoft.CodeAnalysis.Simplification;

namespace LlmGuard.CodeFixes;

/// <summary>
/// For LLMG100: moves an awaited model SDK call into the core of a new [Guarded] method of the same class and calls
/// that method instead. A streaming call (one that returns <c>IAsyncEnumerable&lt;T&gt;</c>, such as
/// <c>IChatClient.GetStreamingResponseAsync</c>) moves into the core of a [Guarded] method that returns the stream.
/// Offered only where the result is certain to compile: an awaited or streaming call in a method of a class, whose
/// inputs are parameters and locals with a stable text form (they become the key) and at most one token. A call that
/// leaves out the optional token of the method it calls is given one: the guarded method and its core gain a
/// <c>CancellationToken</c> (optional on the guarded method, so its callers read as before), which the core passes
/// on, so that the attempt's timeout, and for a stream its deadlines and its last consumer leaving, reach the SDK.
/// </summary>
[ExportCodeFixProvider(LanguageNames.CSharp, Name = nameof(MoveCallIntoGuardedMethodCodeFix))]
[Shared]
public sealed class MoveCallIntoGuardedMethodCodeFix : CodeFixProvider
{
    /// <summary>The code action's title, also its equivalence key.</summary>
    public const string Title = "Move this call into a guarded method";

    /// <inheritdoc />
    public override ImmutableArray<string> FixableDiagnosticIds { get; } = ImmutableArray.Create("LLMG100");

    /// <inheritdoc />
    public override FixAllProvider? GetFixAllProvider() => null;

    /// <inheritdoc />
    public override async Task RegisterCodeFixesAsync(CodeFixContext context)
    {
        SyntaxNode? root = await context.Document.GetSyntaxRootAsync(context.CancellationToken).ConfigureAwait(false);
        SemanticModel? model = await context.Document.GetSemanticModelAsync(context.CancellationToken).ConfigureAwait(false);
        if (root is null || model is null)
        {
            return;
        }

        var invocation = root.FindNode(context.Span, getInnermostNodeForTie: true).FirstAncestorOrSelf<InvocationExpressionSyntax>();
        if (invocation is not null && Plan.TryCreate(invocation, model, context.CancellationToken) is { } plan)
        {
            context.RegisterCodeFix(
                CodeAction.Create(Title, cancellationToken => plan.ApplyAsync(context.Document, root, cancellationToken), Title),
                context.Diagnostics);
        }
    }

    /// <summary>What the fix will write, decided before it is offered.</summary>
    private sealed class Plan
    {
        private readonly InvocationExpressionSyntax _invocation;
        private readonly MethodDeclarationSyntax _method;
        private readonly string _guardedName;
        private readonly string _returnType;
        private readonly IReadOnlyList<(string Type, string Name)> _parameters;
        private readonly bool _streams;
        private readonly AddedToken? _addedToken;

        private Plan(InvocationExpressionSyntax invocation, MethodDeclarationSyntax method, string guardedName, string returnType, IReadOnlyList<(string, string)> parameters, bool streams, AddedToken? addedToken)
        {
            _invocation = invocation;
            _method = method;
            _guardedName = guardedName;
            _returnType = returnType;
            _parameters = parameters;
            _streams = streams;
            _addedToken = addedToken;
        }

        /// <summary>The token the fix adds for a call that leaves out its optional token: its name, and the called method's parameter it is passed to.</summary>
        private sealed class AddedToken(string name, string calledParameter)
        {
            public string Name { get; } = name;

            public string CalledParameter { get; } = calledParameter;
        }

        public static Plan? TryCreate(InvocationExpressionSyntax invocation, SemanticModel model, CancellationToken cancellationToken)
        {
            // Only an awaited or streaming call directly in a method body of a class: not in a lambda, a local function or a field.
            ITypeSymbol? streamedItem = StreamedItem(invocation, model, cancellationToken);
            if ((invocation.Parent is not AwaitExpressionSyntax && streamedItem is null)
                || invocation.Ancestors().TakeWhile(node => node is not MethodDeclarationSyntax).Any(node => node is AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax)
                || invocation.FirstAncestorOrSelf<MethodDeclarationSyntax>() is not { Parent: ClassDeclarationSyntax or RecordDeclarationSyntax { ClassOrStructKeyword.RawKind: not (int)SyntaxKind.StructKeyword } } method
                || invocation.ArgumentList.Arguments.Any(argument => !argument.RefKindKeyword.IsKind(SyntaxKind.None)))
            {
                return null;
            }

            DataFlowAnalysis? flow = model.AnalyzeDataFlow(invocation);
            ITypeSymbol? result = streamedItem ?? model.GetTypeInfo(invocation.Parent!, cancellationToken).Type;
            if (flow is not { Succeeded: true } || result is null or { TypeKind: TypeKind.Error })
            {
                return null;
            }

            // Parameters and locals the call reads become the guarded method's parameters, in the order the call reads them.
            var inputs = flow.DataFlowsIn
                .Where(symbol => symbol is ILocalSymbol || symbol is IParameterSymbol { IsThis: false })
                .OrderBy(symbol => invocation.DescendantNodes().OfType<IdentifierNameSyntax>().FirstOrDefault(n => n.Identifier.Text == symbol.Name)?.SpanStart ?? int.MaxValue)
                .ToArray();
            if (flow.DataFlowsIn.Any(symbol => symbol is not ILocalSymbol and not IParameterSymbol)
                || inputs.Count(symbol => TypeOf(symbol).IsCancellationToken()) > 1
                || inputs.Any(symbol => !TypeOf(symbol).IsCancellationToken() && !HasStableText(TypeOf(symbol))))
            {
                return null;
            }

            int position = invocation.SpanStart;
            string returnType = streamedItem is not null ? $"System.Collections.Generic.IAsyncEnumerable<{result.ToMinimalDisplayString(model, position)}>"
                : result.SpecialType == SpecialType.System_Void ? "System.Threading.Tasks.Task"
                : $"System.Threading.Tasks.Task<{result.ToMinimalDisplayString(model, position)}>";
            var parameters = inputs.Select(symbol => (TypeOf(symbol).ToMinimalDisplayString(model, position), symbol.Name)).ToArray();
            AddedToken? addedToken = inputs.Any(symbol => TypeOf(symbol).IsCancellationToken())
                ? null
                : TokenToAdd(invocation, model, inputs.Select(symbol => symbol.Name), cancellationToken);
            return new Plan(invocation, method, GuardedName(invocation, model, method), returnType, parameters, streamedItem is not null, addedToken);
        }

        /// <summary>
        /// A token for a call that leaves out the optional <c>CancellationToken</c> of the method it calls. Without one
        /// the core cannot pass on the token of its attempt, and an SDK that reads only its own token (as streams that
        /// ignore <c>GetAsyncEnumerator</c>'s token do) runs on past the attempt's timeout and after its callers left.
        /// </summary>
        private static AddedToken? TokenToAdd(InvocationExpressionSyntax invocation, SemanticModel model, IEnumerable<string> taken, CancellationToken cancellationToken)
        {
            if (model.GetOperation(invocation, cancellationToken) is not IInvocationOperation operation
                || operation.Arguments.FirstOrDefault(argument => argument.ArgumentKind == ArgumentKind.DefaultValue && argument.Parameter?.Type.IsCancellationToken() == true) is not { Parameter: { } parameter })
            {
                return null;
            }

            var names = new HashSet<string>(taken);
            string name = "cancellationToken";
            for (int number = 2; names.Contains(name); number++)
            {
                name = "cancellationToken" + number;
            }

            return new AddedToken(name, parameter.Name);
        }

        /// <summary>
        /// The item type of a streaming call: one typed <c>IAsyncEnumerable&lt;T&gt;</c>, which the guarded method
        /// returns in its place, or one that implements it and is enumerated at once by <c>await foreach</c>, which reads
        /// the guarded stream the same way. <see langword="null"/> for any other call.
        /// </summary>
        private static ITypeSymbol? StreamedItem(InvocationExpressionSyntax invocation, SemanticModel model, CancellationToken cancellationToken)
        {
            if (model.GetTypeInfo(invocation, cancellationToken).Type is not INamedTypeSymbol type)
            {
                return null;
            }

            if (IsAsyncEnumerable(type))
            {
                return type.TypeArguments[0];
            }

            bool enumeratedAtOnce = invocation.Parent is ForEachStatementSyntax loop && loop.Expression == invocation && loop.AwaitKeyword.IsKind(SyntaxKind.AwaitKeyword);
            INamedTypeSymbol[] streams = type.AllInterfaces.Where(IsAsyncEnumerable).ToArray();
            return enumeratedAtOnce && streams.Length == 1 ? streams[0].TypeArguments[0] : null;

            static bool IsAsyncEnumerable(INamedTypeSymbol candidate) => candidate.Is("System.Collections.Generic", "IAsyncEnumerable`1");
        }

        public async Task<Document> ApplyAsync(Document document, SyntaxNode root, CancellationToken cancellationToken)
        {
            bool isStatic = _method.Modifiers.Any(SyntaxKind.StaticKeyword);
            string modifiers = isStatic ? "private static" : "private";
            string parameterList = string.Join(", ", _parameters.Select(p => $"{p.Type} {SymbolExtensions.EscapeIdentifier(p.Name)}"));
            string guardedParameterList = parameterList;
            string coreParameterList = parameterList;
            InvocationExpressionSyntax moved = _invocation.WithoutTrivia();
            if (_addedToken is { } token)
            {
                string separator = parameterList.Length == 0 ? string.Empty : ", ";
                guardedParameterList += $"{separator}System.Threading.CancellationToken {token.Name} = default";
                coreParameterList += $"{separator}System.Threading.CancellationToken {token.Name}";
                moved = WithToken(moved, token);
            }

            string coreName = CoreNaming.CoreName(_guardedName);
            // A stream's core returns the call's stream itself: the runtime enumerates it, item by item, under its deadlines.
            string core = _streams
                ? $"{modifiers} {_returnType} {coreName}({coreParameterList}) =>\n    {moved};\n"
                : $"{modifiers} async {_returnType} {coreName}({coreParameterList}) =>\n    await {moved};\n";
            MemberDeclarationSyntax[] members =
            {
                SyntaxFactory.ParseMemberDeclaration($"[LlmGuard.Guarded]\n{modifiers} partial {_returnType} {_guardedName}({guardedParameterList});\n")!,
                SyntaxFactory.ParseMemberDeclaration(core)!,
            };

            ExpressionSyntax call = SyntaxFactory.ParseExpression($"{_guardedName}({string.Join(", ", _parameters.Select(p => SymbolExtensions.EscapeIdentifier(p.Name)))})")
                .WithTriviaFrom(_invocation);

            SyntaxNode tracked = root.TrackNodes(_invocation, _method);
            tracked = tracked.ReplaceNode(tracked.GetCurrentNode(_invocation)!, call);
            MethodDeclarationSyntax method = tracked.GetCurrentNode(_method)!;
            tracked = tracked.InsertNodesAfter(method, members.Select(member => member
                .WithLeadingTrivia(SyntaxFactory.EndOfLine("\n"))
                .WithAdditionalAnnotations(Formatter.Annotation, Simplifier.Annotation)));

            // The class, and every type it is nested in, must be partial for the generated implementation.
            method = tracked.GetCurrentNode(_method)!;
            tracked = tracked.ReplaceNodes(
                method.Ancestors().OfType<TypeDeclarationSyntax>().Where(type => !type.Modifiers.Any(SyntaxKind.PartialKeyword)),
                (_, type) => type.AddModifiers(SyntaxFactory.Token(SyntaxKind.PartialKeyword).WithTrailingTrivia(SyntaxFactory.Space)));

            Document changed = await Simplifier.ReduceAsync(document.WithSyntaxRoot(tracked), Simplifier.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
            return await Formatter.FormatAsync(changed, Formatter.Annotation, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        // Named, so that it binds to the token whatever optional parameters the call leaves out before it.
        private static InvocationExpressionSyntax WithToken(InvocationExpressionSyntax invocation, AddedToken token)
        {
            ArgumentSyntax argument = SyntaxFactory.Argument(SyntaxFactory.IdentifierName(token.Name))
                .WithNameColon(SyntaxFactory.NameColon(SyntaxFactory.IdentifierName(SymbolExtensions.EscapeIdentifier(token.CalledParameter))));
            SeparatedSyntaxList<ArgumentSyntax> arguments = invocation.ArgumentList.Arguments;
            SyntaxNodeOrTokenList items = arguments.GetWithSeparators();
            if (arguments.Count > 0)
            {
                items = items.Add(SyntaxFactory.Token(SyntaxKind.CommaToken).WithTrailingTrivia(SyntaxFactory.Space));
            }

            return invocation.WithArgumentList(invocation.ArgumentList.WithArguments(SyntaxFactory.SeparatedList<ArgumentSyntax>(items.Add(argument))));
        }

        private static ITypeSymbol TypeOf(ISymbol symbol) => symbol is ILocalSymbol local ? local.Type : ((IParameterSymbol)symbol).Type;

        // The inputs become the implicit key, so each must render the same text for equal values.
        private static bool HasStableText(ITypeSymbol type)
        {
            type.IsNullableValueType(out ITypeSymbol underlying);
            return underlying.SpecialType is SpecialType.System_String or SpecialType.System_Boolean or SpecialType.System_Char
                || underlying.TypeKind == TypeKind.Enum
                || underlying.Implements("System", "IFormattable");
        }

        private static string GuardedName(InvocationExpressionSyntax invocation, SemanticModel model, MethodDeclarationSyntax method)
        {
            string called = model.GetSymbolInfo(invocation).Symbol?.Name ?? "Model";
            string stem = (called.EndsWith("Async", System.StringComparison.Ordinal) ? called.Substring(0, called.Length - "Async".Length) : called) + "Guarded";
            INamedTypeSymbol? type = model.GetDeclaredSymbol(method)?.ContainingType;
            string name = stem + "Async";
            for (int number = 2; type is not null && (type.GetMembers(name).Any() || type.GetMembers(CoreNaming.CoreName(name)).Any()); number++)
            {
                name = stem + number + "Async";
            }

            return name;
        }
    }
}
