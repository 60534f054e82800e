using System;
using System.Collections.Generic;
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

    private static ChatMessage Call(Dictionary<string, object?> arguments) =>
        new(ChatRole.Assistant, [new FunctionCallContent("call-1", "order_status", arguments)]);

    private static string Key(ChatMessage message) =>
        ChatRequestKey.Compute(s_openAi, [new ChatMessage(ChatRole.User, "Where is my order?"), message], null, AIJsonUtilities.DefaultOptions, out _)
        ?? throw new InvalidOperationException("The request has no key.");

    // A content type of the application's own, which Microsoft.Extensions.AI's JSON contracts do not list.
    private sealed class OwnContent : AIContent;
}
