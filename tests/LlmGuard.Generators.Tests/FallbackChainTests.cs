using System;
using System.Linq;
using LlmGuard.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace LlmGuard.Generators.Tests;

public sealed class FallbackChainTests
{
    private const string Usings = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using LlmGuard;

        namespace Demo;

        """;

    [Fact]
    public void Explore()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            public partial class Assistant
            {
                [Guarded(Scene = "big", Fallback = nameof(AskSmallAsync))]
                public partial Task<string> AskAsync(string question, CancellationToken cancellationToken);

                [Guarded(Scene = "small", Fallback = nameof(Busy))]
                public partial Task<string> AskSmallAsync(string question, CancellationToken cancellationToken);

                [Guarded(Scene = "nocancel", Fallback = nameof(AskSmall2Async))]
                public partial Task<string> AskNoTokenAsync(string question, CancellationToken cancellationToken);

                [Guarded(Scene = "small2", Fallback = nameof(AskNoTokenAsync))]
                public partial Task<string> AskSmall2Async(string question);

                private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);
                private Task<string> AskSmallCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);
                private Task<string> AskNoTokenCoreAsync(string question, CancellationToken cancellationToken) => Task.FromResult(question);
                private Task<string> AskSmall2CoreAsync(string question) => Task.FromResult(question);
                private static string Busy(string question) => "busy";
            }
            """);
        System.IO.File.WriteAllText("/tmp/chains/explore.txt", run.Describe());
    }
}
