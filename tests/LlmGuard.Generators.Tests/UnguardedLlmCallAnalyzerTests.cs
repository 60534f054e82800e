using System;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace LlmGuard.Generators.Tests;

/// <summary>LLMG100 and LLMG101 against the real SDKs restored from the registry.</summary>
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

    public static TheoryData<string, string> DirectCalls => new()
    {
        { "Microsoft.Extensions.AI.IChatClient chat", "await chat.GetResponseAsync(new[] { new Microsoft.Extensions.AI.ChatMessage(Microsoft.Extensions.AI.ChatRole.User, \"hi\") })" },
        { "Microsoft.Extensions.AI.IChatClient chat", "await chat.GetResponseAsync(\"hi\")" },
        { "Microsoft.Extensions.AI.IChatClient chat", "await foreach (var update in chat.GetStreamingResponseAsync(\"hi\")) { }" },
        { "Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>> embedder", "await embedder.GenerateAsync(new[] { \"hi\" })" },
        { "Microsoft.Extensions.AI.IEmbeddingGenerator<string, Microsoft.Extensions.AI.Embedding<float>> embedder", "await embedder.GenerateVectorAsync(\"hi\")" },
        { "OpenAI.Chat.ChatClient chat", "await chat.CompleteChatAsync(new OpenAI.Chat.UserChatMessage(\"hi\"))" },
        { "OpenAI.Chat.ChatClient chat", "chat.CompleteChat(new OpenAI.Chat.UserChatMessage(\"hi\"))" },
        { "OpenAI.Chat.ChatClient chat", "await foreach (var update in chat.CompleteChatStreamingAsync(new OpenAI.Chat.UserChatMessage(\"hi\"))) { }" },
        { "OpenAI.Embeddings.EmbeddingClient embedder", "await embedder.GenerateEmbeddingAsync(\"hi\")" },
        { "OpenAI.Responses.ResponsesClient responses, OpenAI.Responses.CreateResponseOptions options", "await responses.CreateResponseAsync(options)" },
        { "Anthropic.Services.IMessageService messages, Anthropic.Models.Messages.MessageCreateParams request", "await messages.Create(request)" },
        { "Microsoft.SemanticKernel.Kernel kernel", "await Microsoft.SemanticKernel.KernelExtensions.InvokePromptAsync(kernel, \"hi\")" },
        { "Microsoft.SemanticKernel.Kernel kernel", "await foreach (var update in Microsoft.SemanticKernel.KernelExtensions.InvokePromptStreamingAsync(kernel, \"hi\")) { }" },
        { "Microsoft.SemanticKernel.ChatCompletion.IChatCompletionService chat, Microsoft.SemanticKernel.ChatCompletion.ChatHistory history", "await chat.GetChatMessageContentsAsync(history)" },
        { "Microsoft.SemanticKernel.ChatCompletion.IChatCompletionService chat, Microsoft.SemanticKernel.ChatCompletion.ChatHistory history", "await foreach (var update in chat.GetStreamingChatMessageContentsAsync(history)) { }" },
        { "Microsoft.SemanticKernel.ChatCompletion.IChatCompletionService chat, Microsoft.SemanticKernel.ChatCompletion.ChatHistory history", "await Microsoft.SemanticKernel.ChatCompletion.ChatCompletionServiceExtensions.GetChatMessageContentAsync(chat, history)" },
        { "Microsoft.SemanticKernel.ChatCompletion.IChatCompletionService chat", "await Microsoft.SemanticKernel.ChatCompletion.ChatCompletionServiceExtensions.GetChatMessageContentAsync(chat, \"hi\")" },
        { "Microsoft.SemanticKernel.TextGeneration.ITextGenerationService text", "await text.GetTextContentsAsync(\"hi\")" },
        { "Microsoft.SemanticKernel.TextGeneration.ITextGenerationService text", "await Microsoft.SemanticKernel.TextGeneration.TextGenerationExtensions.GetTextContentAsync(text, \"hi\")" },
    };

    [Theory]
    [MemberData(nameof(DirectCalls))]
    public async Task A_direct_SDK_call_in_business_code_reports_LLMG100_at_the_call(string parameters, string call)
    {
        AnalyzerRun run = await AnalyzerHarness.RunAsync(Usings + $$"""
            public class TicketService
            {
                public async Task HandleAsync({{parameters}})
                {
                    {{call}};
                }
            }
            """);

        Assert.Empty(run.CompilationErrors);
        Diagnostic diagnostic = Assert.Single(run.Diagnostics);
        Assert.Equal("LLMG100", diagnostic.Id);
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Contains(call.Replace("await ", string.Empty, StringComparison.Ordinal).Split('(')[0].Split(' ').Last(), diagnostic.Location.SourceTree!.ToString().Substring(diagnostic.Location.SourceSpan.Start, diagnostic.Location.SourceSpan.Length), StringComparison.Ordinal);
        Assert.Contains("calls a model outside a guarded boundary", diagnostic.GetMessage(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(DirectCalls))]
    public async Task Every_SDK_call_is_fine_in_a_core_in_a_lambda_inside_a_core_in_a_GuardBoundary_member_and_in_generated_code(string parameters, string call)
    {
        AnalyzerRun run = await AnalyzerHarness.RunAsync(
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
                """,
            moreSources: "// <auto-generated/>\n" + Usings.Replace("namespace Demo;", "namespace Demo.Generated;", StringComparison.Ordinal) + $$"""
                public class Client
                {
                    public async Task CallAsync({{parameters}})
                    {
                        {{call}};
                    }
                }
                """);

        Assert.Empty(run.CompilationErrors);
        Assert.Empty(run.Diagnostics);
    }

    [Fact]
    public async Task Calls_inside_a_core_and_inside_lambdas_and_local_functions_of_a_core_are_not_reported()
    {
        AnalyzerRun run = await AnalyzerHarness.RunAsync(Usings + """
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
            """);

        Assert.Empty(run.CompilationErrors);
        Assert.Empty(run.Diagnostics);
    }

    [Fact]
    public async Task A_core_named_with_Core_and_an_interface_core_implemented_by_a_class_are_boundaries()
    {
        AnalyzerRun run = await AnalyzerHarness.RunAsync(Usings + """
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
            """);

        Assert.Empty(run.CompilationErrors);
        Assert.Empty(run.Diagnostics);
    }

    [Fact]
    public async Task GuardBoundary_members_and_types_and_generated_code_are_not_reported()
    {
        AnalyzerRun run = await AnalyzerHarness.RunAsync(
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
                """,
            moreSources: """
                // <auto-generated/>
                using Microsoft.Extensions.AI;

                namespace Demo.Generated;

                public class Client(Microsoft.Extensions.AI.IChatClient chat)
                {
                    public System.Threading.Tasks.Task<Microsoft.Extensions.AI.ChatResponse> AskAsync(string text) => chat.GetResponseAsync(text);
                }
                """);

        Assert.Empty(run.CompilationErrors);
        Assert.Empty(run.Diagnostics);
    }

    [Fact]
    public async Task Semantic_Kernel_calls_written_as_extension_calls_report_LLMG100_outside_a_core_and_nothing_inside()
    {
        AnalyzerRun run = await AnalyzerHarness.RunAsync("""
            using System.Threading.Tasks;
            using LlmGuard;
            using Microsoft.SemanticKernel;
            using Microsoft.SemanticKernel.ChatCompletion;

            namespace Demo;

            public partial class Assistant(Kernel kernel, IChatCompletionService chat)
            {
                public async Task<string> UnguardedAsync(string question)
                {
                    FunctionResult viaKernel = await kernel.InvokePromptAsync(question);
                    ChatMessageContent viaService = await chat.GetChatMessageContentAsync(question);
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
            """);

        Assert.Empty(run.CompilationErrors);
        Assert.Equal(
            new[] { "kernel.InvokePromptAsync(question)", "chat.GetChatMessageContentAsync(question)" },
            run.Diagnostics.Where(d => d.Id == "LLMG100").OrderBy(d => d.Location.SourceSpan.Start).Select(d => d.Location.SourceTree!.GetText().ToString(d.Location.SourceSpan)));
        Assert.All(run.Diagnostics, d => Assert.True(d.Location.GetLineSpan().StartLinePosition.Line < 15, $"Reported inside the core: {d}"));
    }

    [Fact]
    public async Task A_method_group_that_captures_an_SDK_method_counts_as_a_call()
    {
        AnalyzerRun run = await AnalyzerHarness.RunAsync(Usings + """
            public class Wiring(OpenAI.Embeddings.EmbeddingClient embedder)
            {
                public Func<string, OpenAI.Embeddings.EmbeddingGenerationOptions?, CancellationToken, Task<System.ClientModel.ClientResult<OpenAI.Embeddings.OpenAIEmbedding>>> Embed =>
                    embedder.GenerateEmbeddingAsync;
            }
            """);

        Assert.Empty(run.CompilationErrors);
        Assert.Equal("LLMG100", Assert.Single(run.Diagnostics).Id);
    }

    [Fact]
    public async Task A_call_through_a_concrete_implementation_of_a_known_interface_is_reported()
    {
        AnalyzerRun run = await AnalyzerHarness.RunAsync(Usings + """
            public sealed class CachingChatClient(Microsoft.Extensions.AI.IChatClient inner) : Microsoft.Extensions.AI.DelegatingChatClient(inner)
            {
            }

            public class Service(CachingChatClient chat)
            {
                public Task<Microsoft.Extensions.AI.ChatResponse> AskAsync(IEnumerable<Microsoft.Extensions.AI.ChatMessage> messages) => chat.GetResponseAsync(messages);
            }
            """);

        Assert.Empty(run.CompilationErrors);
        Assert.Equal("LLMG100", Assert.Single(run.Diagnostics).Id);
    }

    [Fact]
    public async Task APIs_configured_in_editorconfig_are_reported_by_type_and_by_method()
    {
        AnalyzerRun run = await AnalyzerHarness.RunAsync(
            UsingsWithoutSdk + """
                public class CorpLlm
                {
                    public Task<string> SendAsync(string prompt) => Task.FromResult(prompt);

                    public Task<string> StreamAsync(string prompt) => Task.FromResult(prompt);
                }

                public class InternalGateway
                {
                    public string Complete(string prompt) => prompt;

                    public string Health() => "ok";
                }

                public class Service(CorpLlm llm, InternalGateway gateway)
                {
                    public async Task RunAsync()
                    {
                        await llm.SendAsync("a");
                        await llm.StreamAsync("b");
                        gateway.Complete("c");
                        gateway.Health();
                    }
                }
                """,
            editorConfigApis: "T:Demo.CorpLlm; M:Demo.InternalGateway.Complete(System.String)",
            withSdks: false);

        Assert.Empty(run.CompilationErrors);
        Assert.Equal(3, run.Diagnostics.Count(d => d.Id == "LLMG100"));
        Assert.DoesNotContain(run.Diagnostics, d => d.GetMessage().Contains("Health", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Bad_editorconfig_entries_report_LLMG101_naming_each_entry()
    {
        AnalyzerRun run = await AnalyzerHarness.RunAsync(
            UsingsWithoutSdk + "public class Service { }",
            editorConfigApis: "Demo.Service; T:Demo.Missing; M:Demo.Service.Nope()",
            withSdks: false);

        string[] messages = run.Diagnostics.Where(d => d.Id == "LLMG101").Select(d => d.GetMessage()).OrderBy(m => m, StringComparer.Ordinal).ToArray();
        Assert.Equal(3, messages.Length);
        Assert.Contains("'Demo.Service' is not a type (T:) or method (M:) documentation comment ID", messages[0], StringComparison.Ordinal);
        Assert.Contains("'M:Demo.Service.Nope()' names no type or method", messages[1], StringComparison.Ordinal);
        Assert.Contains("'T:Demo.Missing' names no type or method", messages[2], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_any_SDK_the_analyzer_registers_nothing_and_reports_nothing()
    {
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
