namespace LlmGuard.Generators.Analyzers;

/// <summary>
/// The model SDK methods LLMG100 knows, matched by symbol: a type's metadata name and the names of its methods
/// that call a model. Calls of interface members also count when made through an implementing type.
/// </summary>
internal static class KnownLlmApis
{
    public static readonly (string Type, string[] Methods)[] All =
    {
        // Microsoft.Extensions.AI.Abstractions
        ("Microsoft.Extensions.AI.IChatClient", new[] { "GetResponseAsync", "GetStreamingResponseAsync" }),
        ("Microsoft.Extensions.AI.ChatClientExtensions", new[] { "GetResponseAsync", "GetStreamingResponseAsync" }),
        ("Microsoft.Extensions.AI.IEmbeddingGenerator`2", new[] { "GenerateAsync" }),
        ("Microsoft.Extensions.AI.EmbeddingGeneratorExtensions", new[] { "GenerateAsync", "GenerateVectorAsync", "GenerateAndZipAsync" }),

        // OpenAI 2.x
        ("OpenAI.Chat.ChatClient", new[] { "CompleteChat", "CompleteChatAsync", "CompleteChatStreaming", "CompleteChatStreamingAsync" }),
        ("OpenAI.Embeddings.EmbeddingClient", new[] { "GenerateEmbedding", "GenerateEmbeddingAsync", "GenerateEmbeddings", "GenerateEmbeddingsAsync" }),
        ("OpenAI.Responses.ResponsesClient", new[] { "CreateResponse", "CreateResponseAsync", "CreateResponseStreamingAsync" }),

        // Anthropic
        ("Anthropic.Services.IMessageService", new[] { "Create", "CreateStreaming" }),
        ("Anthropic.Services.MessageServiceExtensions", new[] { "Create", "CreateStreaming" }),

        // Microsoft.SemanticKernel
        ("Microsoft.SemanticKernel.ChatCompletion.IChatCompletionService", new[] { "GetChatMessageContentsAsync", "GetStreamingChatMessageContentsAsync" }),
        ("Microsoft.SemanticKernel.ChatCompletion.ChatCompletionServiceExtensions", new[] { "GetChatMessageContentAsync", "GetChatMessageContentsAsync", "GetStreamingChatMessageContentsAsync" }),
        ("Microsoft.SemanticKernel.KernelExtensions", new[] { "InvokePromptAsync", "InvokePromptStreamingAsync" }),
        ("Microsoft.SemanticKernel.TextGeneration.ITextGenerationService", new[] { "GetTextContentsAsync", "GetStreamingTextContentsAsync" }),
        ("Microsoft.SemanticKernel.TextGeneration.TextGenerationExtensions", new[] { "GetTextContentAsync" }),
    };
}
