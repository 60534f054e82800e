using System;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;

namespace LlmGuard.Generators.Tests;

/// <summary>LLMG100 and LLMG101 against the real SDKs restored from the registry, under Microsoft.CodeAnalysis.Testing.</summary>
public sealed class UnguardedLlmCallAnalyzerTests
{
    private const string Usings = """
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using LlmGuard;
        using Microsoft.Extensions.AI;

        namespace Demo;

        """;

    private const string UsingsWithoutSdk = """
        using System;
        using System.Threading.Tasks;

        namespace Demo;

        """;

    /// <summary>The call without its <c>{|LLMG100:...|}</c> markup, for places where it must not be reported.</summary>
    private static string Unmarked(string call) =>
        call.Replace("{|LLMG100:", string.Empty, StringComparison.Ordinal).Replace("|}", string.Empty, StringComparison.Ordinal);

    public static TheoryData<string, string> DirectCalls => new()
    {
        { "Microsoft.Extensions.AI.IChatClient chat", "await {|LLMG100:chat.GetResponseAsync(new[] { new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.User, \"hi\") })|}" },
        { "Microsoft.Extensions.AI.IChatClient chat", "await {|LLMG100:chat.GetResponseAsync(\"hi\")|}" },
        { "Microsoft.Extensions.AI.IChatClient chat", "await foreach (var update in {|LLMG100:chat.GetStreamingResponseAsync(\"hi\")|}) { }" },
        { "Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>> embedder", "await {|LLMG100:embedder.GenerateAsync(new[] { \"hi\" })|}" },
        { "Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>> embedder", "await {|LLMG100:embedder.GenerateVectorAsync(\"hi\")|}" },
        { "OpenAI.Chat.ChatClient chat", "await {|LLMG100:chat.CompleteChatAsync(new OpenAI.Chat.UserChatMessage(\"hi\"))|}" },
        { "OpenAI.Chat.ChatClient chat", "{|LLMG100:chat.CompleteChat(new OpenAI.Chat.UserChatMessage(\"hi\"))|}" },
        { "OpenAI.Chat.ChatClient chat", "await foreach (var update in {|LLMG100:chat.CompleteChatStreamingAsync(new OpenAI.Chat.UserChatMessage(\"hi\"))|}) { }" },
        { "OpenAI.Embeddings.EmbeddingClient embedder", "await {|LLMG100:embedder.GenerateEmbeddingAsync(\"hi\")|}" },
        { "OpenAI.Responses.ResponsesClient responses, OpenAI.Responses.CreateResponseOptions options", "await {|LLMG100:responses.CreateResponseAsync(options)|}" },
        { "Anthropic.Services.IMessageService messages, Anthropic.Models.Messages.MessageCreateParams request", "await {|LLMG100:messages.Create(request)|}" },
        { "Microsoft.SemanticKernel.Kernel kernel", "await {|LLMG100:Microsoft.SemanticKernel.KernelExtensions.InvokePromptAsync(kernel, \"hi\")|}" },
        { "Microsoft.SemanticKernel.Kernel kernel", "await foreach (var update in {|LLMG100:Microsoft.SemanticKernel.KernelExtensions.InvokePromptStreamingAsync(kernel, \"hi\")|}) { }" },
        { "Microsoft.SemanticKernel.ChatCompletion.IChatCompletionService chat, Microsoft.SemanticKernel.ChatCompletion.ChatHistory history", "await {|LLMG100:chat.GetChatMessageContentsAsync(history)|}" },
        { "Microsoft.SemanticKernel.ChatCompletion.IChatCompletionService chat, Microsoft.SemanticKernel.ChatCompletion.ChatHistory history", "await foreach (var update in {|LLMG100:chat.GetStreamingChatMessageContentsAsync(history)|}) { }" },
        { "Microsoft.SemanticKernel.ChatCompletion.IChatCompletionService chat, Microsoft.SemanticKernel.ChatCompletion.ChatHistory history", "await {|LLMG100:Microsoft.SemanticKernel.ChatCompletion.ChatCompletionServiceExtensions.GetChatMessageContentAsync(chat, history)|}" },
        { "Microsoft.SemanticKernel.ChatCompletion.IChatCompletionService chat", "await {|LLMG100:Microsoft.SemanticKernel.ChatCompletion.ChatCompletionServiceExtensions.GetChatMessageContentAsync(chat, \"hi\")|}" },
        { "Microsoft.SemanticKernel.TextGeneration.ITextGenerationService text", "await {|LLMG100:text.GetTextContentsAsync(\"hi\")|}" },
        { "Microsoft.SemanticKernel.TextGeneration.ITextGenerationService text", "await {|LLMG100:Microsoft.SemanticKernel.TextGeneration.TextGenerationExtensions.GetTextContentAsync(text, \"hi\")|}" },
    };

    [Theory]
    [MemberData(nameof(DirectCalls))]
    public async Task A_direct_SDK_call_in_business_code_reports_LLMG100_at_the_call(string parameters, string call)
    {
        await new Llmg100Test(Usings + $$"""
            public class TicketService
            {
                public async Task HandleAsync({{parameters}})
                {
                    {{call}};
                }
            }
            """).RunAsync();
    }

    [Fact]
    public async Task LLMG100_is_a_warning_naming_the_SDK_method_and_the_way_out()
    {
        var test = new Llmg100Test(Usings + """
            public class TicketService
            {
                public async Task HandleAsync(OpenAI.Chat.ChatClient chat) => await {|#0:chat.CompleteChatAsync(new OpenAI.Chat.UserChatMessage("hi"))|};
            }
            """);
        test.ExpectedDiagnostics.Add(new DiagnosticResult("LLMG100", DiagnosticSeverity.Warning)
            .WithLocation(0)
            .WithMessage("'ChatClient.CompleteChatAsync' calls a model outside a guarded boundary; move the call into the core of a [Guarded] method, or mark the member [GuardBoundary(\"why\")]"));
        await test.RunAsync();
    }

    [Theory]
    [MemberData(nameof(DirectCalls))]
    public async Task Every_SDK_call_is_fine_in_a_core_in_a_lambda_inside_a_core_in_a_GuardBoundary_member_and_in_generated_code(string parameters, string call)
    {
        call = Unmarked(call);
        await new Llmg100Test(
            Usings + $$"""
                public partial class Assistant
                {
                    [Guarded(SingleFlight = false)]
                    public partial Task HandleAsync({{parameters}});

                    private async Task HandleCoreAsync({{parameters}})
                    {
                        {{call}};
                        Func<Task> later = async () => { {{call}}; };
                        await later();
                    }

                    public partial Task HandleAsync({{parameters}}) => Task.CompletedTask;

                    [GuardBoundary("Infrastructure that applies its own policy.")]
                    public async Task ForwardAsync({{parameters}})
                    {
                        {{call}};
                    }
                }
                """)
            .WithGeneratedFile("// <auto-generated/>\n" + Usings.Replace("namespace Demo;", "namespace Demo.Generated;", StringComparison.Ordinal) + $$"""
                public class Client
                {
                    public async Task CallAsync({{parameters}})
                    {
                        {{call}};
                    }
                }
                """)
            .RunAsync();
    }

    [Fact]
    public async Task Calls_inside_a_core_and_inside_lambdas_and_local_functions_of_a_core_are_not_reported()
    {
        await new Llmg100Test(Usings + """
            public partial class Assistant(OpenAI.Chat.ChatClient chat)
            {
                [Guarded]
                public partial Task<string> AskAsync(string question);

                private async Task<string> AskCoreAsync(string question)
                {
                    Func<Task> viaLambda = async () => await chat.CompleteChatAsync(new OpenAI.Chat.UserChatMessage(question));
                    await viaLambda();
                    return await ViaLocalFunction();

                    async Task<string> ViaLocalFunction() => (await chat.CompleteChatAsync(new OpenAI.Chat.UserChatMessage(question))).Value.Content[0].Text;
                }

                public partial Task<string> AskAsync(string question) => AskCoreAsync(question);
            }
            """).RunAsync();
    }

    [Fact]
    public async Task A_core_named_with_Core_and_an_interface_core_implemented_by_a_class_are_boundaries()
    {
        await new Llmg100Test(Usings + """
            public partial interface IClassifier
            {
                [Guarded]
                public partial Task<string> ClassifyAsync(string text);

                protected Task<string> ClassifyCoreAsync(string text);
            }

            public partial interface IClassifier
            {
                public partial Task<string> ClassifyAsync(string text) => ClassifyCoreAsync(text);
            }

            public sealed class ModelClassifier(Microsoft.Extensions.AI.IChatClient chat) : IClassifier
            {
                async Task<string> IClassifier.ClassifyCoreAsync(string text) => (await chat.GetResponseAsync(text)).Text;
            }

            public partial class Summarizer(Microsoft.Extensions.AI.IChatClient chat)
            {
                [Guarded(Core = nameof(CallModelAsync))]
                public partial Task<string> SummarizeAsync(string text);

                private async Task<string> CallModelAsync(string text) => (await chat.GetResponseAsync(text)).Text;

                public partial Task<string> SummarizeAsync(string text) => CallModelAsync(text);
            }
            """).RunAsync();
    }

    [Fact]
    public async Task GuardBoundary_members_and_types_and_generated_code_are_not_reported()
    {
        await new Llmg100Test(
            Usings + """
                public class Middleware(Microsoft.Extensions.AI.IChatClient chat)
                {
                    [GuardBoundary("This middleware applies its own timeout and retry policy.")]
                    public Task<Microsoft.Extensions.AI.ChatResponse> ForwardAsync(string text) => chat.GetResponseAsync(text);
                }

                [GuardBoundary("A test double for the model.")]
                public class Replayer(Microsoft.Extensions.AI.IChatClient chat)
                {
                    public Task<Microsoft.Extensions.AI.ChatResponse> ReplayAsync(string text) => chat.GetResponseAsync(text);

                    public Func<string, Task<Microsoft.Extensions.AI.ChatResponse>> Later => text => chat.GetResponseAsync(text);
                }
                """)
            .WithGeneratedFile("""
                // <auto-generated/>
                using Microsoft.Extensions.AI;

                namespace Demo.Generated;

                public class Client(Microsoft.Extensions.AI.IChatClient chat)
                {
                    public System.Threading.Tasks.Task<Microsoft.Extensions.AI.ChatResponse> AskAsync(string text) => chat.GetResponseAsync(text);
                }
                """).RunAsync();
    }

    [Fact]
    public async Task Semantic_Kernel_calls_written_as_extension_calls_report_LLMG100_outside_a_core_and_nothing_inside()
    {
        await new Llmg100Test("""
            using System.Threading.Tasks;
            using LlmGuard;
            using Microsoft.SemanticKernel;
            using Microsoft.SemanticKernel.ChatCompletion;

            namespace Demo;

            public partial class Assistant(Kernel kernel, IChatCompletionService chat)
            {
                public async Task<string> UnguardedAsync(string question)
                {
                    FunctionResult viaKernel = await {|LLMG100:kernel.InvokePromptAsync(question)|};
                    ChatMessageContent viaService = await {|LLMG100:chat.GetChatMessageContentAsync(question)|};
                    return viaKernel.ToString() + viaService.Content;
                }

                [Guarded]
                public partial Task<string> AskAsync(string question);

                private async Task<string> AskCoreAsync(string question)
                {
                    FunctionResult viaKernel = await kernel.InvokePromptAsync(question);
                    ChatMessageContent viaService = await chat.GetChatMessageContentAsync(question);
                    return viaKernel.ToString() + viaService.Content;
                }

                public partial Task<string> AskAsync(string question) => AskCoreAsync(question);
            }
            """).RunAsync();
    }

    [Fact]
    public async Task A_method_group_that_captures_an_SDK_method_counts_as_a_call()
    {
        await new Llmg100Test(Usings + """
            public class Wiring(OpenAI.Embeddings.EmbeddingClient embedder)
            {
                public Func<string, OpenAI.Embeddings.EmbeddingGenerationOptions?, CancellationToken, Task<System.ClientModel.ClientResult<OpenAI.Embeddings.OpenAIEmbedding>>> Embed =>
                    {|LLMG100:embedder.GenerateEmbeddingAsync|};
            }
            """).RunAsync();
    }

    [Fact]
    public async Task A_call_through_a_concrete_implementation_of_a_known_interface_is_reported()
    {
        await new Llmg100Test(Usings + """
            public sealed class CachingChatClient(Microsoft.Extensions.AI.IChatClient inner) : Microsoft.Extensions.AI.DelegatingChatClient(inner)
            {
            }

            public class Service(CachingChatClient chat)
            {
                public Task<Microsoft.Extensions.AI.ChatResponse> AskAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages) => {|LLMG100:chat.GetResponseAsync(messages)|};
            }
            """).RunAsync();
    }

    [Fact]
    public async Task APIs_configured_in_editorconfig_separated_by_commas_are_reported_by_type_and_by_overload()
    {
        await new Llmg100Test(
            UsingsWithoutSdk + """
                public class CorpLlm
                {
                    public Task<string> SendAsync(string prompt) => Task.FromResult(prompt);

                    public Task<string> StreamAsync(string prompt) => Task.FromResult(prompt);
                }

                public class InternalGateway
                {
                    public string Complete(string prompt, int attempt) => prompt;

                    public string Complete(string prompt) => prompt;

                    public string Health() => "ok";
                }

                public class Service(CorpLlm llm, InternalGateway gateway)
                {
                    public async Task RunAsync()
                    {
                        await {|LLMG100:llm.SendAsync("a")|};
                        await {|LLMG100:llm.StreamAsync("b")|};
                        {|LLMG100:gateway.Complete("c", 1)|};
                        gateway.Complete("d");
                        gateway.Health();
                    }
                }
                """,
            withSdks: false,
            editorConfigApis: "T:Demo.CorpLlm, M:Demo.InternalGateway.Complete(System.String,System.Int32)").RunAsync();
    }

    [Fact]
    public async Task Bad_editorconfig_entries_separated_by_commas_or_spaces_report_LLMG101_naming_each_entry()
    {
        var test = new Llmg100Test(
            UsingsWithoutSdk + "public class Service { }",
            withSdks: false,
            editorConfigApis: "Demo.Service, T:Demo.Missing M:Demo.Service.Nope()");
        test.ExpectedDiagnostics.AddRange(new[]
        {
            Llmg101("Demo.Service", "is not a type (T:) or method (M:) documentation comment ID"),
            Llmg101("T:Demo.Missing", "names no type or method this compilation can see"),
            Llmg101("M:Demo.Service.Nope()", "names no type or method this compilation can see"),
        });
        await test.RunAsync();

        static DiagnosticResult Llmg101(string entry, string problem) =>
            new DiagnosticResult("LLMG101", DiagnosticSeverity.Warning).WithNoLocation().WithArguments(entry, problem);
    }

    [Fact]
    public async Task Without_any_SDK_the_analyzer_registers_nothing_and_reports_nothing()
    {
        // Microsoft.CodeAnalysis.Testing does not expose the analyzer's telemetry, so this one runs on the plain harness.
        AnalyzerRun run = await AnalyzerHarness.RunAsync(UsingsWithoutSdk + """
            public class Service
            {
                public Task<string> RunAsync(Func<string, Task<string>> send) => send("hello");
            }
            """, withSdks: false);

        Assert.Empty(run.CompilationErrors);
        Assert.Empty(run.Diagnostics);
        Assert.Equal(0, run.Telemetry.OperationActionsCount);
    }
}
