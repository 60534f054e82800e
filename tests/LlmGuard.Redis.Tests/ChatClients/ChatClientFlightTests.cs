using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Redis.Tests.Infrastructure;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Redis.Tests.ChatClients;

/// <summary>
/// Two instances, each a container with its own runtime, Redis connection and <c>UseLlmGuard()</c> pipeline over the
/// same model, sending the same chat request: the middleware's executions cross instances like a guarded method's.
/// </summary>
[GuardBoundary("The requests go through the UseLlmGuard() pipeline each instance builds.")]
public sealed class ChatClientFlightTests(RedisServer server) : IClassFixture<RedisServer>, IAsyncLifetime
{
    private const string Scene = "redis_chat";

    private static readonly TimeSpan s_realBound = TimeSpan.FromSeconds(10);

    private readonly string _prefix = "test-" + Guid.NewGuid().ToString("N") + ":";
    private readonly OwnedResources _owned = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => _owned.DisposeAsync().AsTask();

    [Fact]
    public async Task Identical_chat_requests_on_two_instances_reach_the_model_once_and_both_get_its_response()
    {
        var model = new HeldChatClient();
        // ChatResponse's contract comes from Microsoft.Extensions.AI, the application's own from its context.
        IJsonTypeInfoResolver resolver = JsonTypeInfoResolver.Combine(AIJsonUtilities.DefaultOptions.TypeInfoResolver, ChatJsonContext.Default);
        IChatClient first = Instance(model, resolver);
        IChatClient second = Instance(model, resolver);

        Task<ChatResponse>[] calls = [first.GetResponseAsync("Where is my order?"), second.GetResponseAsync("Where is my order?")];
        await model.Entered.WaitAsync(s_realBound);
        await Followers.WaitingAsync(server, _prefix, 1, s_realBound);
        model.Answer(new ChatResponse(new ChatMessage(ChatRole.Assistant, "It ships today."))
        {
            ResponseId = "resp-1",
            ModelId = "model-1",
            CreatedAt = new DateTimeOffset(2026, 12, 2, 5, 0, 0, TimeSpan.Zero),
            FinishReason = ChatFinishReason.Stop,
            Usage = new UsageDetails { InputTokenCount = 12, OutputTokenCount = 4, TotalTokenCount = 16 },
            RawRepresentation = "the provider's own response",
        });

        ChatResponse[] responses = await Task.WhenAll(calls).WaitAsync(s_realBound);
        Assert.Equal(1, model.Requests);
        Assert.All(responses, response =>
        {
            Assert.Equal("It ships today.", response.Text);
            Assert.Equal(ChatRole.Assistant, Assert.Single(response.Messages).Role);
            Assert.Equal("resp-1", response.ResponseId);
            Assert.Equal("model-1", response.ModelId);
            Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
            Assert.Equal(16, response.Usage?.TotalTokenCount);
        });

        // The follower's response is the leader's, read back from Redis: equal in everything JSON carries, which leaves
        // out the provider's raw response object.
        Assert.Equal(ToJson(responses[0]), ToJson(responses[1]));
        Assert.Single(responses, response => response.RawRepresentation is not null);
    }

    [Fact]
    public async Task Without_ChatResponse_in_the_resolver_each_instance_sends_its_own_request_and_answers_its_caller()
    {
        var model = new HeldChatClient();
        IChatClient first = Instance(model, ChatJsonContext.Default);
        IChatClient second = Instance(model, ChatJsonContext.Default);

        Task<ChatResponse>[] calls = [first.GetResponseAsync("Where is my order?"), second.GetResponseAsync("Where is my order?")];
        await model.EnteredTwice.WaitAsync(s_realBound);
        model.Answer(new ChatResponse(new ChatMessage(ChatRole.Assistant, "It ships today.")));

        Assert.All(await Task.WhenAll(calls).WaitAsync(s_realBound), response => Assert.Equal("It ships today.", response.Text));
        Assert.Equal(2, model.Requests);
    }

    private static string ToJson(ChatResponse response) => JsonSerializer.Serialize(response, AIJsonUtilities.DefaultOptions.GetTypeInfo(typeof(ChatResponse)));

    private IChatClient Instance(IChatClient model, IJsonTypeInfoResolver resolver)
    {
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(new FakeTimeProvider());
        services.AddLlmGuard(options => options.Scenes[Scene] = new LlmSceneOptions { Distributed = true })
            .AddRedis(options =>
            {
                options.Configuration = server.Configuration;
                options.TypeInfoResolver = resolver;
                options.KeyPrefix = _prefix;

                // Generous for a loaded test machine: these tests are about sharing, not about Redis being slow.
                options.RedisTimeout = TimeSpan.FromSeconds(5);
            });
        services.AddChatClient(model).UseLlmGuard(configure: guard =>
        {
            guard.Scene = Scene;
            guard.TimeoutMs = 0;
            guard.MaxRetries = 0;
        });
        ServiceProvider instance = services.BuildServiceProvider();
        _owned.Add(instance);
        return instance.GetRequiredService<IChatClient>();
    }
}

/// <summary>An application's own JSON contracts, which know nothing of Microsoft.Extensions.AI.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(string))]
internal sealed partial class ChatJsonContext : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>The model behind every instance's pipeline: it counts requests and holds them until the test answers.</summary>
internal sealed class HeldChatClient : IChatClient
{
    private readonly TaskCompletionSource<ChatResponse> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _enteredTwice = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _requests;

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Completes when the first request arrives.</summary>
    public Task Entered => _entered.Task;

    /// <summary>Completes when a second request arrives.</summary>
    public Task EnteredTwice => _enteredTwice.Task;

    public void Answer(ChatResponse response) => _answer.SetResult(response);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        int request = Interlocked.Increment(ref _requests);
        (request == 1 ? _entered : _enteredTwice).TrySetResult();
        return await _answer.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException();

    public object? GetService(Type serviceType, object? serviceKey = null) => null;

    public void Dispose()
    {
    }
}
