using System;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;

namespace LlmGuard.Tests.Guarded.Shapes;

public sealed record Order(string Id);

public sealed record Invoice(string Id);

/// <summary>
/// A generic containing type: each constructed type has its own guard state and returns its own T; its generic
/// method has state per pair of type arguments.
/// </summary>
public partial class Repository<T>(GuardRuntime runtime, ScriptedModel model, Func<string, T> parse)
{
    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<T> LoadAsync(string id, CancellationToken cancellationToken = default);

    [Guarded(TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<TValue> MeasureAsync<TValue>(string id)
        where TValue : IParsable<TValue>;

    private async Task<T> LoadCoreAsync(string id, CancellationToken cancellationToken) =>
        parse(await model.RespondAsync(typeof(T).Name + "|" + id, cancellationToken));

    private async Task<TValue> MeasureCoreAsync<TValue>(string id)
        where TValue : IParsable<TValue> =>
        TValue.Parse(await model.RespondAsync(typeof(T).Name + "|" + typeof(TValue).Name + "|" + id, CancellationToken.None), CultureInfo.InvariantCulture);
}
