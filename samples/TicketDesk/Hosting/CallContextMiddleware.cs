using LlmGuard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace TicketDesk.Hosting;

/// <summary>Puts the tenant and user of each request in the LlmGuard call context.</summary>
public static class CallContextMiddleware
{
    /// <summary>The header that names the tenant.</summary>
    public const string TenantHeader = "X-Tenant";

    /// <summary>The header that names the user.</summary>
    public const string UserHeader = "X-User";

    /// <summary>
    /// Begins an <see cref="LlmCallContext"/> scope for every request from <c>X-Tenant</c> and <c>X-User</c> (absent
    /// headers leave the value unset) and the request's trace identifier, so guarded calls below key, log and
    /// account by them without passing them along.
    /// </summary>
    public static IApplicationBuilder UseLlmCallContext(this IApplicationBuilder app) =>
        app.Use(async (context, next) =>
        {
            string? tenant = context.Request.Headers[TenantHeader];
            string? user = context.Request.Headers[UserHeader];
            using LlmCallContextScope scope = LlmCallContext.Begin(
                tenant: string.IsNullOrEmpty(tenant) ? null : tenant,
                user: string.IsNullOrEmpty(user) ? null : user,
                requestId: context.TraceIdentifier);
            await next(context);
        });
}
