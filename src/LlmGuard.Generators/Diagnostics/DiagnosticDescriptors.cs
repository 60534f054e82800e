using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace LlmGuard.Generators.Diagnostics;

/// <summary>Every diagnostic LlmGuard's generator reports. IDs are stable: never renumber or reuse one.</summary>
internal static class DiagnosticDescriptors
{
    public const string HelpLinkBase = "https://github.com/llmguard/llmguard/blob/main/docs/diagnostics/";

    private const string Category = "LlmGuard";

    public static readonly DiagnosticDescriptor MethodMustBePartial = Error(
        "LLMG001",
        "A guarded method must be a partial method without a body",
        "'{0}' {1}; declare it 'partial' without a body and put the model call in its core method '{2}'");

    public static readonly DiagnosticDescriptor TypeMustBePartial = Error(
        "LLMG002",
        "The type that contains a guarded method must be partial",
        "Type '{0}' contains the guarded method '{1}' and must be declared 'partial'");

    public static readonly DiagnosticDescriptor UnsupportedReturnType = Error(
        "LLMG003",
        "A guarded method must return a task",
        "'{0}' returns '{1}'; a guarded method must return Task<T>, ValueTask<T>, Task, ValueTask or IAsyncEnumerable<T>");

    public static readonly DiagnosticDescriptor CoreNotFound = Error(
        "LLMG004",
        "The core method of a guarded method is missing",
        "'{0}' has no core method '{1}'; write '{1}' with the same parameters and return type and call the model there, or name the core with Core = nameof(...)");

    public static readonly DiagnosticDescriptor CoreSignatureMismatch = Error(
        "LLMG005",
        "The core method does not match its guarded method",
        "Core method '{0}' does not match '{1}': {2}");

    public static readonly DiagnosticDescriptor UnsupportedParameter = Error(
        "LLMG006",
        "A guarded method's parameters must be passed by value",
        "Parameter '{0}' of '{1}' is {2}; a guarded call may run after its caller has moved on, so take an ordinary by-value parameter instead");

    public static readonly DiagnosticDescriptor MultipleCancellationTokens = Error(
        "LLMG007",
        "A guarded method takes at most one CancellationToken",
        "'{0}' takes more than one CancellationToken ('{1}' and '{2}'); keep one: it is the caller's token");

    public static readonly DiagnosticDescriptor InvalidKeyTemplate = Error(
        "LLMG008",
        "The key template cannot be parsed",
        "Key template \"{0}\" of '{1}' is invalid: {2}");

    public static readonly DiagnosticDescriptor UnknownKeyName = Error(
        "LLMG009",
        "The key template names something the method does not have",
        "Key template of '{0}' cannot use '{{{1}}}': {2}");

    public static readonly DiagnosticDescriptor KeyPartWithoutStableText = Error(
        "LLMG010",
        "A key part has no stable text form",
        "Key part '{0}' of '{1}' has type '{2}', {3}, so different values could render equal keys; {4}");

    public static readonly DiagnosticDescriptor FallbackNotFound = Error(
        "LLMG011",
        "The fallback method is missing",
        "'{0}' names the fallback '{1}', but '{2}' has no method of that name");

    public static readonly DiagnosticDescriptor FallbackSignatureMismatch = Error(
        "LLMG012",
        "The fallback method does not match its guarded method",
        "Fallback '{0}' does not match '{1}': it must {2}");

    public static readonly DiagnosticDescriptor InvalidAttributeValue = Error(
        "LLMG013",
        "A [Guarded] value is out of range",
        "{0} = {1} is not valid on '{2}': {3}");

    public static readonly DiagnosticDescriptor MultipleRuntimeMembers = Error(
        "LLMG014",
        "A type has several GuardRuntime members",
        "Type '{0}' has several GuardRuntime members ({1}); keep one, so its guarded methods know which runtime to use");

    public static readonly DiagnosticDescriptor KeyOmitsParameter = Create(
        "LLMG015",
        "The key template leaves out a parameter",
        "Key template of '{0}' does not use parameter '{1}': callers that differ only in '{1}' share one result; mark it [NotInKey] if that is intended, or add it to the template",
        DiagnosticSeverity.Info);

    public static readonly DiagnosticDescriptor StaticMethodWithInstanceRuntime = Error(
        "LLMG016",
        "A static guarded method cannot use an instance GuardRuntime member",
        "Static method '{0}' cannot use the instance GuardRuntime member '{1}'; {2}");

    public static readonly DiagnosticDescriptor UnsupportedDeclaration = Error(
        "LLMG017",
        "This declaration cannot be guarded",
        "'{0}' cannot be guarded: {1}");

    public static readonly DiagnosticDescriptor MergeWindowWithoutConversationKey = Create(
        "LLMG018",
        "A merge window's key cannot tell conversations apart",
        "'{0}' merges calls for {1} ms, but its key has no parts, so calls from every conversation merge into one execution; name the conversation in Key (for example Key = \"{{sessionId}}\")",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor InvalidMergeAppend = Error(
        "LLMG019",
        "A [MergeAppend] parameter cannot collect merged values",
        "[MergeAppend] on parameter '{0}' of '{1}' cannot work: {2}");

    // LLMG020 belongs to the package's build check (buildTransitive/LlmGuard.props), which runs before any analyzer.
    public static readonly DiagnosticDescriptor NotInKeyParameterInKey = Create(
        "LLMG021",
        "A [NotInKey] parameter is named in the key template",
        "Parameter '{0}' of '{1}' is marked [NotInKey], but the Key template names it, so it is part of the key; remove [NotInKey], or remove '{0}' from the template",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor UnknownContextPlaceholder = Error(
        "LLMG022",
        "Unknown call-context placeholder",
        "Key template of '{0}' cannot use '{1}': it is not a call-context placeholder; use one of {2} (names are case-sensitive)");

    public static readonly DiagnosticDescriptor CacheSecondsOutOfRange = Error(
        "LLMG023",
        "CacheSeconds is out of range",
        "CacheSeconds = {0} on '{1}' is out of range; use 0 for no caching, or a value up to {2} (30 days)");

    public static readonly DiagnosticDescriptor MaxConcurrencyOutOfRange = Error(
        "LLMG029",
        "MaxConcurrency is out of range",
        "MaxConcurrency = {0} on '{1}' is out of range; use 0 for no limit, or the number of executions of the scene that may run at once");

    public static readonly DiagnosticDescriptor BreakerFailureRatioOutOfRange = Error(
        "LLMG030",
        "BreakerFailureRatio is out of range",
        "BreakerFailureRatio = {0} on '{1}' is out of range; use 0 for no circuit breaker, or a share of failed executions above 0 and at most 1");

    public static readonly DiagnosticDescriptor CachedCoreReadsParameterOutsideKey = Error(
        "LLMG024",
        "A cached method's core reads a parameter that is not in the key",
        "'{0}' is cached, but its core '{1}' reads '{2}', which is not in the key, so a later call with another '{2}' would receive this call's answer; put '{2}' in the key, or mark the parameter [DoesNotAffectAnswer] if its value never changes the answer");

    public static readonly DiagnosticDescriptor CachedKeyWithoutPartition = Create(
        "LLMG025",
        "A cached method's key has no tenant, user or conversation part",
        "'{0}' is cached, but its key has no {{$tenant}}, {{$user}} or {{$conversation}} placeholder and no [CachePartition] parameter, so one user's answer is served to every other user; add one of those placeholders to Key, or mark the key parameter that identifies whose answer it is [CachePartition]",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor InvalidSemanticCacheText = Error(
        "LLMG026",
        "A [SemanticCacheText] parameter cannot be compared",
        "[SemanticCacheText] on parameter '{0}' of '{1}' cannot work: {2}");

    public static readonly DiagnosticDescriptor FallbackChainSignatureMismatch = Error(
        "LLMG027",
        "A guarded fallback does not match its guarded method",
        "Fallback '{0}' of '{1}' is a guarded method, which the chain calls with the arguments and the token of '{1}'s execution: it must {2}");

    public static readonly DiagnosticDescriptor FallbackCycle = Error(
        "LLMG028",
        "A fallback chain comes back to a method in it",
        "The fallbacks of '{0}' form a cycle: {1}; end the chain with a fallback that is not guarded, or with a guarded method without Fallback");

    public static readonly DiagnosticDescriptor MergeWindowOnStream = Error(
        "LLMG031",
        "A merge window cannot be used on a streaming method",
        "'{0}' returns IAsyncEnumerable<T> and sets {1}, but a merge window holds each call for its quiet period before the upstream can start, which adds directly to the time to the first item that streaming exists to shorten; remove it, or merge the burst in a method that returns Task<T> and stream that answer");

    public static readonly DiagnosticDescriptor StreamingSettingWithoutStream = Create(
        "LLMG032",
        "A streaming setting is set on a method that does not stream",
        "{0} applies only to streaming methods, and '{1}' returns '{2}', so it has no effect; remove it, or return IAsyncEnumerable<T> to stream the answer",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor UnguardedLlmCall = Create(
        "LLMG100",
        "A model SDK is called outside a guarded boundary",
        "'{0}' calls a model outside a guarded boundary; move the call into the core of a [Guarded] method, or mark the member [GuardBoundary(\"why\")]",
        DiagnosticSeverity.Warning);

    public static readonly DiagnosticDescriptor InvalidLlmApiEntry = Create(
        "LLMG101",
        "An llmguard.llm_apis entry names nothing",
        "The llmguard.llm_apis entry '{0}' {1}; write documentation comment IDs such as T:MyCorp.Llm.Client or M:MyCorp.Llm.Client.Send(System.String), separated by commas",
        DiagnosticSeverity.Warning, WellKnownDiagnosticTags.CompilationEnd);

    private static readonly Dictionary<string, DiagnosticDescriptor> s_byId = typeof(DiagnosticDescriptors)
        .GetFields()
        .Select(field => field.GetValue(null))
        .OfType<DiagnosticDescriptor>()
        .ToDictionary(descriptor => descriptor.Id);

    public static IEnumerable<DiagnosticDescriptor> All => s_byId.Values;

    public static DiagnosticDescriptor ById(string id) => s_byId[id];

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        Create(id, title, message, DiagnosticSeverity.Error);

    private static DiagnosticDescriptor Create(string id, string title, string message, DiagnosticSeverity severity, params string[] customTags) =>
        new(id, title, message, Category, severity, isEnabledByDefault: true, helpLinkUri: HelpLinkBase + id + ".md", customTags: customTags);
}
