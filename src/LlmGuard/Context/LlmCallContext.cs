using System.Threading;

namespace LlmGuard;

/// <summary>
/// Who a model call is made for: tenant, user, conversation, module and request. It flows with the async control
/// flow, like <see cref="AsyncLocal{T}"/>: set it once where a request enters with <see cref="Begin"/>, and every
/// guarded call made below, across awaits and <see cref="System.Threading.Tasks.Task.Run(System.Action)"/>, reads it.
/// </summary>
/// <remarks>
/// <para>
/// Key templates read it as <c>{$tenant}</c>, <c>{$user}</c>, <c>{$conversation}</c> and <c>{$module}</c>, at the
/// call and on the caller's thread, so calls made for different tenants (or users, conversations, modules) never
/// share a merge window or a singleflight execution. A missing context, or a missing value in it, renders like a
/// <see langword="null"/> argument, which differs from the empty string.
/// </para>
/// <para>An instance never changes; a scope replaces the current instance and its disposal puts the outer one back.</para>
/// </remarks>
public sealed class LlmCallContext
{
    private static readonly AsyncLocal<LlmCallContext?> s_current = new();

    private LlmCallContext(LlmCallContext? outer, string? tenant, string? user, string? conversation, string? module, string? requestId)
    {
        Outer = outer;
        Tenant = tenant;
        User = user;
        Conversation = conversation;
        Module = module;
        RequestId = requestId;
    }

    /// <summary>The context of the innermost scope begun in this async flow, or <see langword="null"/> outside every scope.</summary>
    public static LlmCallContext? Current => s_current.Value;

    /// <summary>The tenant the call is made for, or <see langword="null"/>.</summary>
    public string? Tenant { get; }

    /// <summary>The user the call is made for, or <see langword="null"/>.</summary>
    public string? User { get; }

    /// <summary>The conversation the call belongs to, or <see langword="null"/>.</summary>
    public string? Conversation { get; }

    /// <summary>The part of the application that makes the call, or <see langword="null"/>.</summary>
    public string? Module { get; }

    /// <summary>The request the call serves, or <see langword="null"/>.</summary>
    public string? RequestId { get; }

    // The context this one replaced: disposal restores it, and an out-of-order disposal finds its scope through it.
    internal LlmCallContext? Outer { get; }

    /// <summary>
    /// Makes a new context current in this async flow until the returned scope is disposed. A value left
    /// <see langword="null"/> is taken from the context that is current now, so an inner scope overrides only what it sets.
    /// </summary>
    /// <param name="tenant">The tenant, or <see langword="null"/> to keep the outer one.</param>
    /// <param name="user">The user, or <see langword="null"/> to keep the outer one.</param>
    /// <param name="conversation">The conversation, or <see langword="null"/> to keep the outer one.</param>
    /// <param name="module">The module, or <see langword="null"/> to keep the outer one.</param>
    /// <param name="requestId">The request id, or <see langword="null"/> to keep the outer one.</param>
    /// <returns>A scope whose disposal makes the outer context current again; dispose it in the flow that began it, with <c>using</c>.</returns>
    /// <remarks>
    /// The change is seen by this async flow and the flows it starts afterwards, never by its caller's flow once an
    /// async method returns, nor by flows running concurrently. See <see cref="LlmCallContextScope.Dispose"/> for
    /// disposals out of order.
    /// </remarks>
    public static LlmCallContextScope Begin(string? tenant = null, string? user = null, string? conversation = null, string? module = null, string? requestId = null)
    {
        LlmCallContext? outer = s_current.Value;
        var context = new LlmCallContext(
            outer,
            tenant ?? outer?.Tenant,
            user ?? outer?.User,
            conversation ?? outer?.Conversation,
            module ?? outer?.Module,
            requestId ?? outer?.RequestId);
        s_current.Value = context;
        return new LlmCallContextScope(context);
    }

    internal static void End(LlmCallContext context)
    {
        // Only a scope that is current, or that encloses the current one, ends; anything else was ended already or
        // belongs to another flow, where changing this flow's value would install a context nobody began here.
        for (LlmCallContext? open = s_current.Value; open is not null; open = open.Outer)
        {
            if (ReferenceEquals(open, context))
            {
                s_current.Value = context.Outer;
                return;
            }
        }
    }
}
