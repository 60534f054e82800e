using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Redis.Tests.Budgets;

/// <summary>The model of the budget tests: each execution reports <see cref="Tokens"/> tokens, as a model SDK would.</summary>
public sealed class SpendingModel
{
    private int _executions;

    /// <summary>Gets or sets the tokens each execution reports.</summary>
    public long Tokens { get; set; }

    public int Executions => Volatile.Read(ref _executions);

    public Task<string> RespondAsync()
    {
        Interlocked.Increment(ref _executions);
        LlmUsage.Report(Tokens, 0);
        return Task.FromResult("ok");
    }
}

/// <summary>A guarded method of a scene whose tokens the tests' budgets count.</summary>
public partial class BudgetedAssistant(GuardRuntime runtime, SpendingModel model)
{
    public const string Scene = "redis_budgeted";

    [Guarded(Scene = Scene, TimeoutMs = 0, MaxRetries = 0)]
    public partial Task<string> AskAsync(string question, CancellationToken cancellationToken = default);

    private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => model.RespondAsync();
}
