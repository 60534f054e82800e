using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Guarded.Shapes;

/// <summary>One guarded method per result shape: ValueTask&lt;T&gt;, Task, ValueTask, a value type and nullable results.</summary>
public sealed partial class ResultShapes(GuardRuntime runtime, ScriptedModel model)
{
    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial ValueTask<string> DescribeAsync(string id);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task ArchiveAsync(string id);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial ValueTask AcknowledgeAsync(string id, CancellationToken cancellationToken = default);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<int> CountAsync(string queue);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string?> FindTitleAsync(string id);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<int?> FindPriorityAsync(string id);

    private async ValueTask<string> DescribeCoreAsync(string id) =>
        await model.RespondAsync("describe|" + id, CancellationToken.None);

    private async Task ArchiveCoreAsync(string id) =>
        await model.RespondAsync("archive|" + id, CancellationToken.None);

    private async ValueTask AcknowledgeCoreAsync(string id, CancellationToken cancellationToken) =>
        await model.RespondAsync("acknowledge|" + id, cancellationToken);

    private async Task<int> CountCoreAsync(string queue) =>
        int.Parse(await model.RespondAsync("count|" + queue, CancellationToken.None), CultureInfo.InvariantCulture);

    // The model answers "none" when it found nothing.
    private async Task<string?> FindTitleCoreAsync(string id)
    {
        string answer = await model.RespondAsync("title|" + id, CancellationToken.None);
        return answer == "none" ? null : answer;
    }

    private async Task<int?> FindPriorityCoreAsync(string id) =>
        int.TryParse(await model.RespondAsync("priority|" + id, CancellationToken.None), NumberStyles.Integer, CultureInfo.InvariantCulture, out int priority)
            ? priority
            : null;
}
