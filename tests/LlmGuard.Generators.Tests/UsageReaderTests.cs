using System;
using LlmGuard.Generators.Tests.Infrastructure;

namespace LlmGuard.Generators.Tests;

/// <summary>
/// The usage reader the generator hands to the runtime: emitted for results that carry a Microsoft.Extensions.AI
/// UsageDetails, so budgets, prices and usage records see the tokens without reflection; absent for every other result.
/// </summary>
public sealed class UsageReaderTests
{
    private const string Usings = """
        using System;
        using System.Threading;
        using System.Threading.Tasks;
        using LlmGuard;
        using Microsoft.Extensions.AI;

        """;

    private const string ChatResponseReader =
        "usage: static result => new global::LlmGuard.LlmTokenUsage(result?.Usage?.InputTokenCount, result?.Usage?.OutputTokenCount, result?.ModelId)";

    [Fact]
    public void A_ChatResponse_result_gets_a_reader_of_its_tokens_and_model()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo;

            public partial class Chat
            {
                [Guarded]
                public partial Task<ChatResponse> AskAsync(string question, CancellationToken cancellationToken);

                private Task<ChatResponse> AskCoreAsync(string question, CancellationToken cancellationToken) =>
                    Task.FromResult(new ChatResponse());
            }
            """);

        run.AssertClean();
        Assert.Contains(ChatResponseReader, run.SingleSource(), StringComparison.Ordinal);
        Snapshot.VerifyGenerated(run.SingleSource(), "UsageReaderChatResponse");
    }

    [Fact]
    public void A_ChatResponse_of_T_result_gets_the_same_reader()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo;

            public sealed record Draft(string Title);

            public partial class Chat
            {
                [Guarded]
                public partial ValueTask<ChatResponse<Draft>> DraftAsync(string question, CancellationToken cancellationToken);

                private ValueTask<ChatResponse<Draft>> DraftCoreAsync(string question, CancellationToken cancellationToken) =>
                    throw new NotSupportedException();
            }
            """);

        run.AssertClean();
        Assert.Contains(ChatResponseReader, run.SingleSource(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_custom_result_with_a_UsageDetails_property_gets_a_reader_without_a_model()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo;

            public sealed class Summary
            {
                public string Text { get; init; } = "";

                public UsageDetails? Usage { get; init; }
            }

            public partial class Chat
            {
                [Guarded]
                public partial Task<Summary> SummarizeAsync(string text, CancellationToken cancellationToken);

                private Task<Summary> SummarizeCoreAsync(string text, CancellationToken cancellationToken) =>
                    Task.FromResult(new Summary());
            }
            """);

        run.AssertClean();
        Assert.Contains(
            "usage: static result => new global::LlmGuard.LlmTokenUsage(result?.Usage?.InputTokenCount, result?.Usage?.OutputTokenCount)",
            run.SingleSource(),
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_struct_result_with_a_UsageDetails_property_is_read_without_null_checks_on_the_result()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo;

            public readonly record struct Answer(string Text, UsageDetails? Usage, string? ModelId);

            public partial class Chat
            {
                [Guarded]
                public partial Task<Answer> AnswerAsync(string text, CancellationToken cancellationToken);

                private Task<Answer> AnswerCoreAsync(string text, CancellationToken cancellationToken) =>
                    Task.FromResult(new Answer(text, null, null));
            }
            """);

        run.AssertClean();
        Assert.Contains(
            "usage: static result => new global::LlmGuard.LlmTokenUsage(result.Usage?.InputTokenCount, result.Usage?.OutputTokenCount, result.ModelId)",
            run.SingleSource(),
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("string")]
    [InlineData("Metered")]
    [InlineData("HiddenUsage")]
    public void Results_without_a_readable_UsageDetails_Usage_get_no_reader(string resultType)
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + $$"""
            namespace Demo;

            // A property named Usage of another type is not token usage.
            public sealed class Metered
            {
                public long Usage { get; init; }

                public string? ModelId { get; init; }
            }

            // Usage that generated code cannot read.
            public sealed class HiddenUsage
            {
                internal UsageDetails? Usage { get; init; }
            }

            public partial class Chat
            {
                [Guarded]
                public partial Task<{{resultType}}> AskAsync(string question, CancellationToken cancellationToken);

                private Task<{{resultType}}> AskCoreAsync(string question, CancellationToken cancellationToken) =>
                    Task.FromResult<{{resultType}}>(default!);
            }
            """);

        run.AssertClean();
        Assert.DoesNotContain("usage:", run.SingleSource(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_void_result_gets_no_reader()
    {
        GeneratorRun run = GeneratorHarness.Run(Usings + """
            namespace Demo;

            public partial class Chat
            {
                [Guarded]
                public partial Task NotifyAsync(string message, CancellationToken cancellationToken);

                private Task NotifyCoreAsync(string message, CancellationToken cancellationToken) => Task.CompletedTask;
            }
            """);

        run.AssertClean();
        Assert.DoesNotContain("usage:", run.SingleSource(), StringComparison.Ordinal);
    }
}
