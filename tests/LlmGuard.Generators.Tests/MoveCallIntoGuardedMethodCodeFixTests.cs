using System.Threading.Tasks;
using LlmGuard.Generators.Tests.Infrastructure;

namespace LlmGuard.Generators.Tests;

/// <summary>The LLMG100 code fix under Microsoft.CodeAnalysis.Testing: its output, that the output compiles with the generator, and where it is not offered.</summary>
public sealed class MoveCallIntoGuardedMethodCodeFixTests
{
    [Fact]
    public async Task An_awaited_call_on_a_field_with_a_parameter_moves_into_a_guarded_methods_core_which_passes_its_token_on()
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
                private partial Task<ChatResponse> GetResponseGuardedAsync(string ticketText, System.Threading.CancellationToken cancellationToken = default);

                private async Task<ChatResponse> GetResponseGuardedCoreAsync(string ticketText, System.Threading.CancellationToken cancellationToken) =>
                    await _chat.GetResponseAsync(ticketText, cancellationToken: cancellationToken);
            }
            """).RunAsync();
    }

    [Fact]
    public async Task A_call_without_inputs_gets_a_guarded_method_whose_only_parameter_is_the_added_token()
    {
        await new Llmg100CodeFixTest(
            """
            using System.Threading.Tasks;
            using Microsoft.Extensions.AI;

            namespace Demo;

            public class Greeter(IChatClient chat)
            {
                public async Task<string> GreetAsync() => (await {|LLMG100:chat.GetResponseAsync("Say hello.")|}).Text;
            }
            """,
            """
            using System.Threading.Tasks;
            using Microsoft.Extensions.AI;

            namespace Demo;

            public partial class Greeter(IChatClient chat)
            {
                public async Task<string> GreetAsync() => (await GetResponseGuardedAsync()).Text;

                [LlmGuard.Guarded]
                private partial Task<ChatResponse> GetResponseGuardedAsync(System.Threading.CancellationToken cancellationToken = default);

                private async Task<ChatResponse> GetResponseGuardedCoreAsync(System.Threading.CancellationToken cancellationToken) =>
                    await chat.GetResponseAsync("Say hello.", cancellationToken: cancellationToken);
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

    [Fact]
    public async Task A_streaming_call_in_await_foreach_moves_into_the_core_of_a_guarded_stream()
    {
        await new Llmg100CodeFixTest(
            """
            using System.Collections.Generic;
            using System.Text;
            using System.Threading;
            using System.Threading.Tasks;
            using Microsoft.Extensions.AI;

            namespace Demo;

            public class ChatService
            {
                private readonly IChatClient _chat;

                public ChatService(IChatClient chat) => _chat = chat;

                public async Task<string> AnswerAsync(string question, CancellationToken cancellationToken)
                {
                    var text = new StringBuilder();
                    await foreach (ChatResponseUpdate update in {|LLMG100:_chat.GetStreamingResponseAsync(question, cancellationToken: cancellationToken)|})
                    {
                        text.Append(update.Text);
                    }

                    return text.ToString();
                }
            }
            """,
            """
            using System.Collections.Generic;
            using System.Text;
            using System.Threading;
            using System.Threading.Tasks;
            using Microsoft.Extensions.AI;

            namespace Demo;

            public partial class ChatService
            {
                private readonly IChatClient _chat;

                public ChatService(IChatClient chat) => _chat = chat;

                public async Task<string> AnswerAsync(string question, CancellationToken cancellationToken)
                {
                    var text = new StringBuilder();
                    await foreach (ChatResponseUpdate update in GetStreamingResponseGuardedAsync(question, cancellationToken))
                    {
                        text.Append(update.Text);
                    }

                    return text.ToString();
                }

                [LlmGuard.Guarded]
                private partial IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseGuardedAsync(string question, CancellationToken cancellationToken);

                private IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseGuardedCoreAsync(string question, CancellationToken cancellationToken) =>
                    _chat.GetStreamingResponseAsync(question, cancellationToken: cancellationToken);
            }
            """).RunAsync();
    }

    [Fact]
    public async Task A_returned_stream_is_replaced_by_the_guarded_stream_whose_core_passes_the_upstreams_token_to_the_sdk()
    {
        // An SDK stream may read only the token of its call, not the one GetAsyncEnumerator is given: only a token
        // passed to the call lets a deadline, or the last consumer leaving, stop it.
        await new Llmg100CodeFixTest(
            """
            using System.Collections.Generic;
            using Microsoft.Extensions.AI;

            namespace Demo;

            public class ChatService(IChatClient chat)
            {
                public IAsyncEnumerable<ChatResponseUpdate> StreamAsync(string question) => {|LLMG100:chat.GetStreamingResponseAsync(question)|};
            }
            """,
            """
            using System.Collections.Generic;
            using Microsoft.Extensions.AI;

            namespace Demo;

            public partial class ChatService(IChatClient chat)
            {
                public IAsyncEnumerable<ChatResponseUpdate> StreamAsync(string question) => GetStreamingResponseGuardedAsync(question);

                [LlmGuard.Guarded]
                private partial IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseGuardedAsync(string question, System.Threading.CancellationToken cancellationToken = default);

                private IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseGuardedCoreAsync(string question, System.Threading.CancellationToken cancellationToken) =>
                    chat.GetStreamingResponseAsync(question, cancellationToken: cancellationToken);
            }
            """).RunAsync();
    }

    [Fact]
    public async Task A_stream_of_its_own_type_is_moved_only_when_await_foreach_reads_it_at_once()
    {
        var test = new Llmg100CodeFixTest(
            """
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;

            namespace Demo;

            public class Service(Model model)
            {
                public async Task<int> CountAsync(string prompt)
                {
                    int count = 0;
                    await foreach (string token in {|LLMG100:model.Stream(prompt)|})
                    {
                        count++;
                    }

                    return count;
                }

                public int Size(string prompt) => {|LLMG100:model.Stream(prompt)|}.Count;
            }
            """ + Types,
            """
            using System.Collections.Generic;
            using System.Threading;
            using System.Threading.Tasks;

            namespace Demo;

            public partial class Service(Model model)
            {
                public async Task<int> CountAsync(string prompt)
                {
                    int count = 0;
                    await foreach (string token in StreamGuardedAsync(prompt))
                    {
                        count++;
                    }

                    return count;
                }

                [LlmGuard.Guarded]
                private partial IAsyncEnumerable<string> StreamGuardedAsync(string prompt);

                private IAsyncEnumerable<string> StreamGuardedCoreAsync(string prompt) =>
                    model.Stream(prompt);

                public int Size(string prompt) => {|LLMG100:model.Stream(prompt)|}.Count;
            }
            """ + Types);

        // Only the first call is fixed: the second reads a member of the SDK's own type, which the guarded stream lacks.
        test.FixedState.MarkupHandling = Microsoft.CodeAnalysis.Testing.MarkupMode.Allow;
        const string Config = "root = true\n\n[*.cs]\nllmguard.llm_apis = M:Demo.Model.Stream(System.String)\n";
        test.TestState.AnalyzerConfigFiles.Add(("/.editorconfig", Config));
        test.FixedState.AnalyzerConfigFiles.Add(("/.editorconfig", Config));
        await test.RunAsync();
    }

    private const string Types = """

            public sealed class Tokens : IAsyncEnumerable<string>
            {
                public int Count => 0;

                public async IAsyncEnumerator<string> GetAsyncEnumerator(CancellationToken cancellationToken = default)
                {
                    await Task.Yield();
                    yield break;
                }
            }

            public class Model
            {
                public Tokens Stream(string prompt) => new();
            }
            """;

    [Theory]
    [InlineData("public Task<ChatResponse> AskAsync(string text) => {|LLMG100:chat.GetResponseAsync(text)|};")] // not awaited
    [InlineData("public async Task<string> AskAsync(string text) { Func<Task<ChatResponse>> later = () => {|LLMG100:chat.GetResponseAsync(text)|}; return (await later()).Text; }")] // inside a lambda
    [InlineData("public async Task<string> AskAsync(IEnumerable<ChatMessage> messages) => (await {|LLMG100:chat.GetResponseAsync(messages)|}).Text;")] // an input without a stable text form
    [InlineData("public async Task<string> AskAsync(string text, CancellationToken a, CancellationToken b) => (await {|LLMG100:chat.GetResponseAsync(text, cancellationToken: a.CanBeCanceled ? a : b)|}).Text;")] // two tokens
    [InlineData("public IAsyncEnumerable<ChatResponseUpdate> StreamAsync(IEnumerable<ChatMessage> messages) => {|LLMG100:chat.GetStreamingResponseAsync(messages)|};")] // a stream whose input has no stable text form
    [InlineData("public IAsyncEnumerable<ChatResponseUpdate> StreamAsync(string text) { Func<IAsyncEnumerable<ChatResponseUpdate>> later = () => {|LLMG100:chat.GetStreamingResponseAsync(text)|}; return later(); }")] // a stream inside a lambda
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
