using BenchmarkDotNet.Attributes;

namespace LlmGuard.Benchmarks;

/// <summary>
/// The key of the hot path's call: LlmGuard's generated key method (escaped, so that ("a:b", "c") and ("a", "b:c")
/// differ) against the interpolated string a team writes by hand (which gives those two the same key).
/// </summary>
[MemoryDiagnoser]
public partial class KeyBenchmarks
{
    private readonly string _userId = "user-1";
    private readonly string _question = "where is my order?";

    [Benchmark(Baseline = true, Description = "interpolated key")]
    public string Interpolated() => $"support:{_userId}:{_question}";

    [Benchmark(Description = "LlmGuard generated key")]
    public string Generated() => __AskAsync_Key(_userId, _question);

    [Guarded(Scene = "support")]
    public partial System.Threading.Tasks.Task<string> AskAsync(string userId, string question);

    private System.Threading.Tasks.Task<string> AskCoreAsync(string userId, string question) => System.Threading.Tasks.Task.FromResult(question);
}
