using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Tests.Guarded.Shapes;

public sealed partial class SplitDesk
{
    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> SummarizeAsync(string sessionId);

    private Task<string> SummarizeCoreAsync(string sessionId) => _model.RespondAsync("summarize|" + sessionId, CancellationToken.None);
}
