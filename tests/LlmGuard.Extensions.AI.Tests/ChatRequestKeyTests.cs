using System;
using System.Collections.Generic;
using System.Drawing;
using System.Linq;
using System.Reflection;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace LlmGuard.Extensions.AI.Tests;

/// <summary>The key of a chat request: equal exactly when nothing that reaches the model differs.</summary>
public sealed class ChatRequestKeyTests
{
    private static readonly ChatClientMetadata s_openAi = new("openai", new Uri("https://api.openai.com/v1"), "gpt-4o-mini");

    [Fact]
    public void Equal_requests_built_separately_have_one_key()
    {
        Assert.Equal(Key(Call(new Dictionary<string, object?> { ["id"] = 42, ["when"] = "today" })), Key(Call(new Dictionary<string, object?> { ["when"] = "today", ["id"] = 42 })));
    }

    [Fact]
    public void Function_calls_with_other_arguments_have_other_keys()
    {
        Assert.NotEqual(Key(Call(new Dictionary<string, object?> { ["id"] = 42 })), Key(Call(new Dictionary<string, object?> { ["id"] = 43 })));
    }

    [Fact]
    public void Function_results_with_other_results_have_other_keys()
    {
        static ChatMessage Result(object value) => new(ChatRole.Tool, [new FunctionResultContent("call-1", value)]);

        Assert.NotEqual(Key(Result("shipped")), Key(Result("lost")));
    }

    [Fact]
    public void Text_split_differently_across_contents_has_another_key()
    {
        // The same characters, in one text or two: a tagged, length-prefixed layout never lets them collide.
        var one = new ChatMessage(ChatRole.User, [new TextContent("ab")]);
        var two = new ChatMessage(ChatRole.User, [new TextContent("a"), new TextContent("b")]);

        Assert.NotEqual(Key(one), Key(two));
    }

    [Fact]
    public void Another_inner_client_model_gives_another_key()
    {
        var message = new ChatMessage(ChatRole.User, "hi");

        Assert.NotEqual(
            ChatRequestKey.Compute(s_openAi, [message], null, AIJsonUtilities.DefaultOptions, out _),
            ChatRequestKey.Compute(new ChatClientMetadata("openai", s_openAi.ProviderUri, "gpt-4o"), [message], null, AIJsonUtilities.DefaultOptions, out _));
    }

    [Fact]
    public void A_content_type_the_JSON_settings_do_not_know_leaves_the_request_without_a_key_and_says_why()
    {
        var message = new ChatMessage(ChatRole.User, [new OwnContent()]);

        string? key = ChatRequestKey.Compute(s_openAi, [message], null, AIJsonUtilities.DefaultOptions, out string? reason);

        Assert.Null(key);
        Assert.Contains(nameof(OwnContent), reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_key_is_64_hex_digits_however_long_the_conversation()
    {
        var messages = new List<ChatMessage>();
        for (int i = 0; i < 200; i++)
        {
            messages.Add(new ChatMessage(i % 2 == 0 ? ChatRole.User : ChatRole.Assistant, new string('x', 1_000)));
        }

        Assert.Matches("^[0-9a-f]{64}$", ChatRequestKey.Compute(s_openAi, messages, null, AIJsonUtilities.DefaultOptions, out _));
    }

    public static TheoryData<string> ToolDifferences => new()
    {
        "file search vector store",
        "file search result count",
        "code interpreter files",
        "MCP server address",
        "MCP headers",
        "MCP allowed tools",
        "MCP approval mode",
        "image generation options",
        "web search properties",
        "function properties",
    };

    [Theory]
    [MemberData(nameof(ToolDifferences))]
    public void Tools_with_other_settings_have_other_keys(string difference)
    {
        Assert.NotEqual(ToolKey(Tool(difference, variant: false)), ToolKey(Tool(difference, variant: true)));
    }

    [Fact]
    public void Hosted_tools_with_equal_settings_built_separately_have_one_key()
    {
        static AITool[] Tools() =>
        [
            new HostedFileSearchTool { Inputs = [new HostedVectorStoreContent("vs_A")], MaximumResultCount = 5 },
            new HostedMcpServerTool("orders", "https://mcp.example/orders") { Headers = new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" } },
        ];

        Assert.Equal(
            ChatRequestKey.Compute(s_openAi, [new ChatMessage(ChatRole.User, "hi")], new ChatOptions { Tools = Tools() }, AIJsonUtilities.DefaultOptions, out _),
            ChatRequestKey.Compute(s_openAi, [new ChatMessage(ChatRole.User, "hi")], new ChatOptions { Tools = Tools() }, AIJsonUtilities.DefaultOptions, out _));
    }

    [Fact]
    public void A_tool_type_whose_settings_the_key_cannot_read_leaves_the_request_without_a_key_and_says_why()
    {
        var options = new ChatOptions { Tools = [new OwnFileSearchTool { Index = "tenant-a" }] };

        string? key = ChatRequestKey.Compute(s_openAi, [new ChatMessage(ChatRole.User, "hi")], options, AIJsonUtilities.DefaultOptions, out string? reason);

        Assert.Null(key);
        Assert.Contains(nameof(OwnFileSearchTool), reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_setting_of_the_hosted_tools_the_key_writes_is_one_it_knows()
    {
        // A Microsoft.Extensions.AI release that adds a setting to a hosted tool must add it to the key too: until then
        // two requests differing only in it would share an answer.
        (Type Tool, string[] Settings)[] known =
        [
            (typeof(HostedFileSearchTool), ["Name", "Description", "AdditionalProperties", "Inputs", "MaximumResultCount"]),
            (typeof(HostedCodeInterpreterTool), ["Name", "Description", "AdditionalProperties", "Inputs"]),
            (typeof(HostedMcpServerTool), ["Name", "Description", "AdditionalProperties", "ServerName", "ServerAddress", "ServerDescription", "AllowedTools", "ApprovalMode", "Headers"]),
            (typeof(HostedImageGenerationTool), ["Name", "Description", "AdditionalProperties", "Options"]),
            (typeof(HostedWebSearchTool), ["Name", "Description", "AdditionalProperties"]),
            (typeof(ImageGenerationOptions), ["Count", "ImageSize", "MediaType", "ModelId", "RawRepresentationFactory", "ResponseFormat", "StreamingCount", "AdditionalProperties"]),
            (typeof(HostedMcpServerToolRequireSpecificApprovalMode), ["AlwaysRequireApprovalToolNames", "NeverRequireApprovalToolNames"]),
        ];

        foreach ((Type tool, string[] settings) in known)
        {
            string[] actual = tool.GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(property => property.Name).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(settings.Order(StringComparer.Ordinal).ToArray(), actual);
        }
    }

    private static AITool Tool(string difference, bool variant) => difference switch
    {
        "file search vector store" => new HostedFileSearchTool { Inputs = [new HostedVectorStoreContent(variant ? "vs_A" : "vs_B")] },
        "file search result count" => new HostedFileSearchTool { Inputs = [new HostedVectorStoreContent("vs_A")], MaximumResultCount = variant ? 5 : 10 },
        "code interpreter files" => new HostedCodeInterpreterTool { Inputs = [new HostedFileContent(variant ? "file-a" : "file-b")] },
        "MCP server address" => new HostedMcpServerTool("orders", variant ? "https://a.example/mcp" : "https://b.example/mcp"),
        "MCP headers" => new HostedMcpServerTool("orders", "https://mcp.example/orders") { Headers = new Dictionary<string, string> { ["Authorization"] = variant ? "Bearer tenant-a" : "Bearer tenant-b" } },
        "MCP allowed tools" => new HostedMcpServerTool("orders", "https://mcp.example/orders") { AllowedTools = [variant ? "read" : "write"] },
        "MCP approval mode" => new HostedMcpServerTool("orders", "https://mcp.example/orders") { ApprovalMode = variant ? HostedMcpServerToolApprovalMode.AlwaysRequire : HostedMcpServerToolApprovalMode.NeverRequire },
        "image generation options" => new HostedImageGenerationTool { Options = new ImageGenerationOptions { ImageSize = variant ? new Size(256, 256) : new Size(1024, 1024) } },
        "web search properties" => new HostedWebSearchTool(new Dictionary<string, object?> { ["country"] = variant ? "FR" : "DE" }),
        "function properties" => AIFunctionFactory.Create(() => "shipped", new AIFunctionFactoryOptions
        {
            Name = "order_status",
            AdditionalProperties = new Dictionary<string, object?> { ["strict"] = variant },
        }),
        _ => throw new ArgumentOutOfRangeException(nameof(difference), difference, null),
    };

    private static string ToolKey(AITool tool) =>
        ChatRequestKey.Compute(s_openAi, [new ChatMessage(ChatRole.User, "Where is my order?")], new ChatOptions { Tools = [tool] }, AIJsonUtilities.DefaultOptions, out string? reason)
        ?? throw new InvalidOperationException("The request has no key: " + reason);

    private static ChatMessage Call(Dictionary<string, object?> arguments) =>
        new(ChatRole.Assistant, [new FunctionCallContent("call-1", "order_status", arguments)]);

    private static string Key(ChatMessage message) =>
        ChatRequestKey.Compute(s_openAi, [new ChatMessage(ChatRole.User, "Where is my order?"), message], null, AIJsonUtilities.DefaultOptions, out _)
        ?? throw new InvalidOperationException("The request has no key.");

    // A content type of the application's own, which Microsoft.Extensions.AI's JSON contracts do not list.
    private sealed class OwnContent : AIContent;

    // A hosted tool of the application's own, with a setting of its own the key has no way to read.
    private sealed class OwnFileSearchTool : HostedFileSearchTool
    {
        public string? Index { get; init; }
    }
}
