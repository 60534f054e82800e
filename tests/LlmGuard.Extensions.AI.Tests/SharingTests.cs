using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.AI;

namespace LlmGuard.Extensions.AI.Tests;

/// <summary>
/// Requests through <c>UseLlmGuard()</c> share one HTTP request exactly when their key is equal: same messages, same
/// options that change the answer, same tenant, user and conversation.
/// </summary>
public sealed class SharingTests
{
    private const int Callers = 5;

    [Fact]
    public async Task Concurrent_identical_requests_make_one_HTTP_request_and_every_caller_gets_the_answer()
    {
        var release = new TaskCompletionSource();
        await using GuardedChat chat = await GuardedChat.StartAsync(null, ServerReply.After(release.Task, ServerReply.Status(200, GuardedChat.Completion)));

        // Issued from this thread before the model answers: every later caller finds the first one's request in flight.
        Task<ChatResponse>[] calls = Enumerable.Range(0, Callers).Select(_ => chat.Chat.GetResponseAsync("Where is my order?")).ToArray();
        await chat.Server.WaitForRequestsAsync(1);
        release.SetResult();
        ChatResponse[] responses = await Task.WhenAll(calls).Within();

        Assert.Equal(1, chat.Server.Requests);
        Assert.All(responses, response => Assert.Equal("hello", response.Text));
    }

    [Fact]
    public async Task Identical_requests_racing_from_many_threads_share_one_HTTP_request()
    {
        // Randomized interleaving of the callers' arrival (pool threads released together), bounded to 10 rounds; the
        // model answers only once every caller has entered the guard, so however they raced, one request answers all.
        for (int round = 0; round < 10; round++)
        {
            var release = new TaskCompletionSource();
            await using GuardedChat chat = await GuardedChat.StartAsync(null, ServerReply.After(release.Task, ServerReply.Status(200, GuardedChat.Completion)));
            using var start = new Barrier(Callers);
            using var entered = new CountdownEvent(Callers);
            Task<ChatResponse>[] calls = Enumerable.Range(0, Callers)
                .Select(_ => Task.Run(() =>
                {
                    start.SignalAndWait(TimeSpan.FromSeconds(10));
                    Task<ChatResponse> call = chat.Chat.GetResponseAsync("Where is my order?");
                    entered.Signal();
                    return call;
                }))
                .ToArray();

            Assert.True(await Task.Run(() => entered.Wait(TimeSpan.FromSeconds(10))));
            release.SetResult();
            ChatResponse[] responses = await Task.WhenAll(calls).Within();

            Assert.Equal(1, chat.Server.Requests);
            Assert.All(responses, response => Assert.Equal("hello", response.Text));
        }
    }

    public static TheoryData<string> Differences => new()
    {
        "message text",
        "role",
        "author",
        "earlier message",
        "image bytes",
        "model",
        "temperature",
        "max output tokens",
        "stop sequences",
        "response format",
        "seed",
        "tools",
        "hosted tool inputs",
        "MCP server address",
        "instructions",
        "tenant",
        "user",
        "conversation",
    };

    [Theory]
    [MemberData(nameof(Differences))]
    public async Task Requests_that_differ_in_what_changes_the_answer_make_separate_requests(string difference)
    {
        var release = new TaskCompletionSource();
        await using GuardedChat chat = await GuardedChat.StartAsync(null, ServerReply.After(release.Task, ServerReply.Status(200, GuardedChat.Completion)));

        Task<ChatResponse> first = Send(chat.Chat, difference, variant: false);
        Task<ChatResponse> second = Send(chat.Chat, difference, variant: true);

        await chat.Server.WaitForRequestsAsync(2);
        release.SetResult();
        await Task.WhenAll(first, second).Within();
        Assert.Equal(2, chat.Server.Requests);
    }

    [Fact]
    public async Task Options_and_properties_with_equal_values_share_a_request()
    {
        var release = new TaskCompletionSource();
        await using GuardedChat chat = await GuardedChat.StartAsync(null, ServerReply.After(release.Task, ServerReply.Status(200, GuardedChat.Completion)));
        ChatOptions Options(bool reversed)
        {
            var properties = new AdditionalPropertiesDictionary();
            foreach (string name in reversed ? new[] { "b", "a" } : ["a", "b"])
            {
                properties[name] = name;
            }

            return new ChatOptions { Temperature = 0.2f, StopSequences = ["END"], AdditionalProperties = properties };
        }

        Task<ChatResponse> first = chat.Chat.GetResponseAsync("Where is my order?", Options(reversed: false));
        Task<ChatResponse> second = chat.Chat.GetResponseAsync("Where is my order?", Options(reversed: true));
        await chat.Server.WaitForRequestsAsync(1);
        release.SetResult();
        await Task.WhenAll(first, second).Within();

        Assert.Equal(1, chat.Server.Requests);
    }

    [Fact]
    public async Task A_request_holding_a_value_its_JSON_settings_cannot_serialize_runs_in_an_execution_of_its_own()
    {
        var release = new TaskCompletionSource();
        await using GuardedChat chat = await GuardedChat.StartAsync(
            guard => guard.JsonSerializerOptions = new JsonSerializerOptions { TypeInfoResolver = JsonTypeInfoResolver.Combine() },
            ServerReply.After(release.Task, ServerReply.Status(200, GuardedChat.Completion)));
        var options = new ChatOptions { AdditionalProperties = new() { ["reasoning_budget"] = 3 } };

        Task<ChatResponse> first = chat.Chat.GetResponseAsync("Where is my order?", options);
        Task<ChatResponse> second = chat.Chat.GetResponseAsync("Where is my order?", options);
        await chat.Server.WaitForRequestsAsync(2);
        release.SetResult();
        ChatResponse[] responses = await Task.WhenAll(first, second).Within();

        Assert.Equal(2, chat.Server.Requests);
        Assert.All(responses, response => Assert.Equal("hello", response.Text));
    }

    [Fact]
    public async Task A_request_whose_options_build_the_raw_request_themselves_is_not_shared()
    {
        var release = new TaskCompletionSource();
        await using GuardedChat chat = await GuardedChat.StartAsync(null, ServerReply.After(release.Task, ServerReply.Status(200, GuardedChat.Completion)));
        var options = new ChatOptions { RawRepresentationFactory = static _ => null };

        Task<ChatResponse> first = chat.Chat.GetResponseAsync("Where is my order?", options);
        Task<ChatResponse> second = chat.Chat.GetResponseAsync("Where is my order?", options);
        await chat.Server.WaitForRequestsAsync(2);
        release.SetResult();
        await Task.WhenAll(first, second).Within();

        Assert.Equal(2, chat.Server.Requests);
    }

    [Fact]
    public async Task Every_caller_gets_its_own_response_that_it_may_change_without_changing_another_callers()
    {
        var release = new TaskCompletionSource();
        await using GuardedChat chat = await GuardedChat.StartAsync(null, ServerReply.After(release.Task, ServerReply.Status(200, GuardedChat.Completion)));

        Task<ChatResponse> first = chat.Chat.GetResponseAsync("Where is my order?");
        Task<ChatResponse> second = chat.Chat.GetResponseAsync("Where is my order?");
        await chat.Server.WaitForRequestsAsync(1);
        release.SetResult();
        ChatResponse mine = await first.Within();
        ChatResponse theirs = await second.Within();

        // What function invocation does to the response it received: append messages, add usage, set properties.
        mine.Messages.Add(new ChatMessage(ChatRole.Tool, "tool result"));
        mine.Messages[0].Contents.Add(new TextContent(" and more"));
        mine.Usage!.Add(new UsageDetails { InputTokenCount = 100 });
        (mine.AdditionalProperties ??= new())["changed"] = true;

        Assert.Equal(1, chat.Server.Requests);
        Assert.NotSame(mine, theirs);
        Assert.Equal("hello", theirs.Text);
        Assert.Single(theirs.Messages);
        Assert.Single(theirs.Messages[0].Contents);
        Assert.Equal(11, theirs.Usage!.InputTokenCount);
        Assert.False(theirs.AdditionalProperties?.ContainsKey("changed") ?? false);
    }

    [Fact]
    public async Task A_caller_that_changes_its_history_after_the_call_does_not_change_what_a_retry_sends()
    {
        await using GuardedChat chat = await GuardedChat.StartAsync(
            guard =>
            {
                guard.Scene = "untimed_chat";
                guard.TimeoutMs = 0;
            },
            ServerReply.Status(503, """{"error":{"message":"overloaded","type":"server_error","param":null,"code":null}}"""),
            ServerReply.Status(200, GuardedChat.Completion));
        var history = new List<ChatMessage> { new(ChatRole.User, "Where is my order?") };

        Task<ChatResponse> call = chat.Chat.GetResponseAsync(history);
        await chat.Server.WaitForRequestsAsync(1);
        history[0].Contents[0] = new TextContent("Cancel my order.");
        history.Add(new ChatMessage(ChatRole.User, "Now."));
        (ChatResponse response, _) = await chat.Time.DriveAsync(call);

        Assert.Equal("hello", response.Text);
        Assert.Equal(2, chat.Server.Requests);
        Assert.Contains("Where is my order?", chat.Server.Bodies[1], StringComparison.Ordinal);
        Assert.DoesNotContain("Cancel", chat.Server.Bodies[1], StringComparison.Ordinal);
        Assert.DoesNotContain("Now.", chat.Server.Bodies[1], StringComparison.Ordinal);
    }

    private static Task<ChatResponse> Send(IChatClient chat, string difference, bool variant)
    {
        var message = new ChatMessage(ChatRole.User, difference == "message text" && variant ? "Where is my parcel?" : "Where is my order?");
        var messages = new List<ChatMessage> { message };
        var options = new ChatOptions();
        IDisposable? scope = null;
        switch (difference)
        {
            case "role":
                message.Role = variant ? ChatRole.System : ChatRole.User;
                break;
            case "author":
                message.AuthorName = variant ? "ada" : "grace";
                break;
            case "earlier message":
                messages.Insert(0, new ChatMessage(ChatRole.Assistant, variant ? "Hi, I am Ada." : "Hi, I am Grace."));
                break;
            case "image bytes":
                message.Contents.Add(new DataContent(new byte[] { 1, 2, variant ? (byte)3 : (byte)4 }, "image/png"));
                break;
            case "model":
                options.ModelId = variant ? "gpt-4o" : "gpt-4o-mini";
                break;
            case "temperature":
                options.Temperature = variant ? 0.9f : 0.1f;
                break;
            case "max output tokens":
                options.MaxOutputTokens = variant ? 100 : 200;
                break;
            case "stop sequences":
                options.StopSequences = [variant ? "END" : "STOP"];
                break;
            case "response format":
                options.ResponseFormat = variant ? ChatResponseFormat.Json : ChatResponseFormat.Text;
                break;
            case "seed":
                options.Seed = variant ? 1 : 2;
                break;
            case "tools":
                options.Tools = [AIFunctionFactory.Create(() => "shipped", variant ? "order_status" : "parcel_status")];
                break;
            case "hosted tool inputs":
                options.Tools = [new HostedFileSearchTool { Inputs = [new HostedVectorStoreContent(variant ? "vs_A" : "vs_B")] }];
                break;
            case "MCP server address":
                options.Tools = [new HostedMcpServerTool("orders", variant ? "https://a.example/mcp" : "https://b.example/mcp")];
                break;
            case "instructions":
                options.Instructions = variant ? "Be brief." : "Be thorough.";
                break;
            case "tenant":
                scope = LlmCallContext.Begin(tenant: variant ? "t1" : "t2");
                break;
            case "user":
                scope = LlmCallContext.Begin(user: variant ? "u1" : "u2");
                break;
            case "conversation":
                scope = LlmCallContext.Begin(conversation: variant ? "c1" : "c2");
                break;
        }

        using (scope)
        {
            return chat.GetResponseAsync(messages, options);
        }
    }
}
