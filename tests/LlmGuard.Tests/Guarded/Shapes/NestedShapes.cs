using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Guarded.Shapes;

/// <summary>A guarded method two types deep: the generated file re-declares the whole chain.</summary>
public static partial class Support
{
    public partial class Escalations
    {
        public sealed partial class Desk(GuardRuntime runtime, ScriptedModel model)
        {
            [Guarded(TimeoutMs = 0, MaxRetries = 0)]
            public partial Task<string> EscalateAsync(string ticketId, CancellationToken cancellationToken = default);

            private Task<string> EscalateCoreAsync(string ticketId, CancellationToken cancellationToken) =>
                model.RespondAsync("escalate|" + ticketId, cancellationToken);
        }
    }
}
