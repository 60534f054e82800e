using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Guarded.Shapes;

/// <summary>
/// Overloads of one guarded method. LookupAsync("42") and LookupAsync(42) render the same key, so only separate
/// state per overload keeps them apart.
/// </summary>
public sealed partial class Catalog(GuardRuntime runtime, ScriptedModel model)
{
    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> LookupAsync(string id);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> LookupAsync(int id);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> LookupAsync(string id, string locale);

    private Task<string> LookupCoreAsync(string id) => model.RespondAsync("text|" + id, CancellationToken.None);

    private Task<string> LookupCoreAsync(int id) =>
        model.RespondAsync("number|" + id.ToString(CultureInfo.InvariantCulture), CancellationToken.None);

    private Task<string> LookupCoreAsync(string id, string locale) => model.RespondAsync("localized|" + id + "|" + locale, CancellationToken.None);
}
