using System.Threading.Tasks;
using LlmGuard.Generators.Tests.Infrastructure;

namespace LlmGuard.Generators.Tests;

/// <summary>The LLMG100 code fix under Microsoft.CodeAnalysis.Testing: its output, that the output compiles with the generator, and where it is not offered.</summary>
public sealed class MoveCallIntoGuardedMethodCodeFixTests
{
    [Fact]
    public async Task An_awaited_call_on_a_field_with_a_parameter_moves_into_a_guarded_methods_core()
    {
        await new Llmg100CodeFixTest(
            """
            using System.Threading.Tasks;
            using Microsoft.Extensions.AI;

            namespace Demo;

            public class TicketService
            {
                private readonly IChatClient _chat;

                public TicketService(IChatClient chat) => _chat = chat;

                public async Task<string> SummarizeAsync(string ticketText)
                {
                    ChatResponse response = await {|LLMG100:_chat.GetResponseAsync(ticketText)|};
                    return response.Text;
                }
            }
            """,
            """
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
            """).RunAsync();
    }

    [Fact]
    public async Task Locals_and_a_token_become_parameters_and_nested_types_become_partial()
    {
        await new Llmg100CodeFixTest(
            """
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
                        var embedding = await {|LLMG100:client.GenerateEmbeddingAsync(text, cancellationToken: cancellationToken)|};
                        return embedding.Value.ToFloats().Length;
                    }
                }
            }
            """,
            """
            using System.Threading;
            using System.Threading.Tasks;

            namespace Demo;

            public partial class Outer
            {
                public partial class Embedder(OpenAI.Embeddings.EmbeddingClient client)
                {
                    public async Task<int> DimensionsAsync(int ticketNumber, CancellationToken cancellationToken)
                    {
                        string text = "ticket " + ticketNumber;
                        var embedding = await GenerateEmbeddingGuardedAsync(text, cancellationToken);
                        return embedding.Value.ToFloats().Length;
                    }

                    [LlmGuard.Guarded]
                    private partial Task<System.ClientModel.ClientResult<OpenAI.Embeddings.OpenAIEmbedding>> GenerateEmbeddingGuardedAsync(string text, CancellationToken cancellationToken);

                    private async Task<System.ClientModel.ClientResult<OpenAI.Embeddings.OpenAIEmbedding>> GenerateEmbeddingGuardedCoreAsync(string text, CancellationToken cancellationToken) =>
                        await client.GenerateEmbeddingAsync(text, cancellationToken: cancellationToken);
                }
            }
            """).RunAsync();
    }

    [Theory]
    [InlineData("public Task<ChatResponse> AskAsync(string text) => {|LLMG100:chat.GetResponseAsync(text)|};")] // not awaited
    [InlineData("public async Task<string> AskAsync(string text) { Func<Task<ChatResponse>> later = () => {|LLMG100:chat.GetResponseAsync(text)|}; return (await later()).Text; }")] // inside a lambda
    [InlineData("public async Task<string> AskAsync(IEnumerable<ChatMessage> messages) => (await {|LLMG100:chat.GetResponseAsync(messages)|}).Text;")] // an input without a stable text form
    [InlineData("public async Task<string> AskAsync(string text, CancellationToken a, CancellationToken b) => (await {|LLMG100:chat.GetResponseAsync(text, cancellationToken: a.CanBeCanceled ? a : b)|}).Text;")] // two tokens
    public async Task The_fix_is_not_offered_where_its_output_could_not_be_right(string member)
    {
        // Fixed code equal to the source fails the test if the fix is offered.
        await new Llmg100CodeFixTest($$"""
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
            """, fixedSource: null).RunAsync();
    }

    [Fact]
    public async Task The_fix_is_not_offered_in_a_struct()
    {
        await new Llmg100CodeFixTest("""
            using System.Threading.Tasks;
            using Microsoft.Extensions.AI;

            namespace Demo;

            public struct Service(IChatClient chat)
            {
                public async Task<string> AskAsync(string text) => (await {|LLMG100:chat.GetResponseAsync(text)|}).Text;
            }
            """, fixedSource: null).RunAsync();
    }
}
