using System;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Generators.Tests.Infrastructure;

namespace LlmGuard.Generators.Tests;

/// <summary>The LLMG100 code fix: its output, that the output compiles, and where it is not offered.</summary>
public sealed class MoveCallIntoGuardedMethodCodeFixTests
{
    [Fact]
    public async Task An_awaited_call_on_a_field_with_a_parameter_moves_into_a_guarded_methods_core()
    {
        string? fixedSource = await CodeFixHarness.ApplyAsync("""
            using System.Threading.Tasks;
            using Microsoft.Extensions.AI;

            namespace Demo;

            public class TicketService
            {
                private readonly IChatClient _chat;

                public TicketService(IChatClient chat) => _chat = chat;

                public async Task<string> SummarizeAsync(string ticketText)
                {
                    ChatResponse response = await _chat.GetResponseAsync(ticketText);
                    return response.Text;
                }
            }
            """);

        Assert.Equal("""
            using System.Threading.Tasks;
            using Microsoft.Extensions.AI;

            namespace Demo;

            public partial class TicketService
            {
                private readonly IChatClient _chat;

                public TicketService(IChatClient chat) => _chat = chat;

                public async Task<string> SummarizeAsync(string ticketText)
                {
                    ChatResponse response = await GetResponseGuardedAsync(ticketText);
                    return response.Text;
                }

                [LlmGuard.Guarded]
                private partial Task<ChatResponse> GetResponseGuardedAsync(string ticketText);

                private async Task<ChatResponse> GetResponseGuardedCoreAsync(string ticketText) =>
                    await _chat.GetResponseAsync(ticketText);
            }
            """, fixedSource);
        await AssertCompilesWithoutLlmg100Async(fixedSource!);
    }

    [Fact]
    public async Task Locals_and_a_token_become_parameters_and_nested_types_become_partial()
    {
        string? fixedSource = await CodeFixHarness.ApplyAsync("""
            using System.Threading;
            using System.Threading.Tasks;

            namespace Demo;

            public class Outer
            {
                public class Embedder(OpenAI.Embeddings.EmbeddingClient client)
                {
                    public async Task<int> DimensionsAsync(int ticketNumber, CancellationToken cancellationToken)
                    {
                        string text = "ticket " + ticketNumber;
                        var embedding = await client.GenerateEmbeddingAsync(text, cancellationToken: cancellationToken);
                        return embedding.Value.ToFloats().Length;
                    }
                }
            }
            """);

        Assert.NotNull(fixedSource);
        Assert.Contains("public partial class Outer", fixedSource, StringComparison.Ordinal);
        Assert.Contains("public partial class Embedder(", fixedSource, StringComparison.Ordinal);
        Assert.Contains("await GenerateEmbeddingGuardedAsync(text, cancellationToken);", fixedSource, StringComparison.Ordinal);
        Assert.Contains("GenerateEmbeddingGuardedCoreAsync(string text, CancellationToken cancellationToken)", fixedSource, StringComparison.Ordinal);
        await AssertCompilesWithoutLlmg100Async(fixedSource!);
    }

    [Theory]
    [InlineData("public Task<ChatResponse> AskAsync(string text) => chat.GetResponseAsync(text);", "not awaited")]
    [InlineData("public async Task<string> AskAsync(string text) { Func<Task<ChatResponse>> later = () => chat.GetResponseAsync(text); return (await later()).Text; }", "inside a lambda")]
    [InlineData("public async Task<string> AskAsync(IEnumerable<ChatMessage> messages) => (await chat.GetResponseAsync(messages)).Text;", "an input without a stable text form")]
    [InlineData("public async Task<string> AskAsync(string text, CancellationToken a, CancellationToken b) => (await chat.GetResponseAsync(text, cancellationToken: a.CanBeCanceled ? a : b)).Text;", "two tokens")]
    public async Task The_fix_is_not_offered_where_its_output_could_not_be_right(string member, string why)
    {
        string? fixedSource = await CodeFixHarness.ApplyAsync($$"""
            using System;
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;
            using Microsoft.Extensions.AI;

            namespace Demo;

            public class Service(IChatClient chat)
            {
                {{member}}
            }
            """);

        Assert.True(fixedSource is null, $"The fix was offered for a call {why}.");
    }

    [Fact]
    public async Task The_fix_is_not_offered_in_a_struct()
    {
        string? fixedSource = await CodeFixHarness.ApplyAsync("""
            using System.Threading.Tasks;
            using Microsoft.Extensions.AI;

            namespace Demo;

            public struct Service(IChatClient chat)
            {
                public async Task<string> AskAsync(string text) => (await chat.GetResponseAsync(text)).Text;
            }
            """);

        Assert.Null(fixedSource);
    }

    private static async Task AssertCompilesWithoutLlmg100Async(string source)
    {
        GeneratorRun run = GeneratorHarness.Run(source);
        Assert.Empty(run.GeneratorDiagnostics);
        Assert.True(run.OutputDiagnostics.IsEmpty, run.Describe());

        AnalyzerRun analyzed = await AnalyzerHarness.RunAsync(source);
        Assert.DoesNotContain(analyzed.Diagnostics, d => d.Id == "LLMG100");
    }
}
