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
using Microsoft.CodeAnalysis.Simplification;

namespace LlmGuard.CodeFixes;

/// <summary>
/// For LLMG100: moves an awaited model SDK call into the core of a new [Guarded] method of the same class and calls
/// that method instead. Offered only where the result is certain to compile: an awaited call in a method of a class,
/// whose inputs are parameters and locals with a stable text form (they become the key) and at most one token.
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

        private Plan(InvocationExpressionSyntax invocation, MethodDeclarationSyntax method, string guardedName, string returnType, IReadOnlyList<(string, string)> parameters)
        {
            _invocation = invocation;
            _method = method;
            _guardedName = guardedName;
            _returnType = returnType;
            _parameters = parameters;
        }

        public static Plan? TryCreate(InvocationExpressionSyntax invocation, SemanticModel model, CancellationToken cancellationToken)
        {
            // Only an awaited call directly in a method body of a class: not in a lambda, a local function or a field.
            if (invocation.Parent is not AwaitExpressionSyntax awaited
                || invocation.Ancestors().TakeWhile(node => node is not MethodDeclarationSyntax).Any(node => node is AnonymousFunctionExpressionSyntax or LocalFunctionStatementSyntax)
                || invocation.FirstAncestorOrSelf<MethodDeclarationSyntax>() is not { Parent: ClassDeclarationSyntax or RecordDeclarationSyntax { ClassOrStructKeyword.RawKind: not (int)SyntaxKind.StructKeyword } } method
                || invocation.ArgumentList.Arguments.Any(argument => !argument.RefKindKeyword.IsKind(SyntaxKind.None)))
            {
                return null;
            }

            DataFlowAnalysis? flow = model.AnalyzeDataFlow(invocation);
            if (flow is not { Succeeded: true } || model.GetTypeInfo(awaited, cancellationToken).Type is not { TypeKind: not TypeKind.Error } result)
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
            string returnType = result.SpecialType == SpecialType.System_Void
                ? "System.Threading.Tasks.Task"
                : $"System.Threading.Tasks.Task<{result.ToMinimalDisplayString(model, position)}>";
            var parameters = inputs.Select(symbol => (TypeOf(symbol).ToMinimalDisplayString(model, position), symbol.Name)).ToArray();
            return new Plan(invocation, method, GuardedName(invocation, model, method), returnType, parameters);
        }

        public async Task<Document> ApplyAsync(Document document, SyntaxNode root, CancellationToken cancellationToken)
        {
            bool isStatic = _method.Modifiers.Any(SyntaxKind.StaticKeyword);
            string modifiers = isStatic ? "private static" : "private";
            string parameterList = string.Join(", ", _parameters.Select(p => $"{p.Type} {SymbolExtensions.EscapeIdentifier(p.Name)}"));
            string coreName = CoreNaming.CoreName(_guardedName);
            MemberDeclarationSyntax[] members =
            {
                SyntaxFactory.ParseMemberDeclaration($"[LlmGuard.Guarded]\n{modifiers} partial {_returnType} {_guardedName}({parameterList});\n")!,
                SyntaxFactory.ParseMemberDeclaration($"{modifiers} async {_returnType} {coreName}({parameterList}) =>\n    await {_invocation.WithoutTrivia()};\n")!,
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
