using System;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Protection;
using LlmGuard.Tests.Fakes;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests.Protection;

/// <summary>Protection declared on the attribute: its constants apply, and the scene's configuration wins over them.</summary>
public sealed class AttributeProtectionTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedModel _model = new();

    [Fact]
    public async Task MaxConcurrency_on_the_attribute_limits_the_scene_without_configuration()
    {
        var desk = new DeclaredDesk(new GuardRuntime(_time), _model);
        Task<string> first = desk.AskAsync("1");
        ModelCall running = await _model.NextCallAsync();

        LlmLimitExceededException refusal = await Assert.ThrowsAsync<LlmLimitExceededException>(() => desk.AskAsync("2").Within());
        Assert.Equal(DeclaredDesk.LimitedScene, refusal.Scene);

        running.Succeed("a");
        Assert.Equal("a", await first.Within());
    }

    [Fact]
    public async Task The_scenes_configuration_overrides_the_attributes_MaxConcurrency()
    {
        var runtime = new GuardRuntime(_time) { Options = ProtectedDesk.Options(DeclaredDesk.LimitedScene, s => s.MaxConcurrency = 2) };
        var desk = new DeclaredDesk(runtime, _model);
        Task<string> first = desk.AskAsync("1");
        Task<string> second = desk.AskAsync("2");
        ModelCall a = await _model.NextCallAsync();
        ModelCall b = await _model.NextCallAsync();

        a.Succeed("a");
        b.Succeed("b");
        Assert.Equal(["a", "b"], await Task.WhenAll(first, second).Within());
    }

    [Fact]
    public async Task BreakerFailureRatio_on_the_attribute_turns_the_breaker_on_and_configuration_shapes_it()
    {
        // Valid only because the attribute supplies the ratio the other breaker settings need.
        var runtime = new GuardRuntime(_time)
        {
            Options = ProtectedDesk.Options(DeclaredDesk.BreakerScene, s => { s.BreakerMinimumThroughput = 2; s.BreakerBreakMs = 5_000; }),
        };
        var desk = new DeclaredDesk(runtime, _model);
        for (int i = 0; i < 2; i++)
        {
            Task<string> call = desk.ReplyAsync("f" + i);
            (await _model.NextCallAsync()).Fail(new HttpRequestException("unavailable", null, System.Net.HttpStatusCode.BadGateway));
            await Assert.ThrowsAsync<HttpRequestException>(() => call.Within());
        }

        await Assert.ThrowsAsync<LlmCircuitOpenException>(() => desk.ReplyAsync("refused").Within());
        Assert.Equal(2, _model.Calls);
    }
}

/// <summary>Guarded methods that declare their protection on the attribute; no other test uses these scenes.</summary>
public partial class DeclaredDesk(GuardRuntime runtime, ScriptedModel model)
{
    public const string LimitedScene = "protected_declared_limit";
    public const string BreakerScene = "protected_declared_breaker";

    [Guarded(Scene = LimitedScene, Key = "{question}", TimeoutMs = 0, MaxRetries = 0, MaxConcurrency = 1)]
    public partial Task<string> AskAsync(string question, CancellationToken cancellationToken = default);

    [Guarded(Scene = BreakerScene, Key = "{question}", TimeoutMs = 0, MaxRetries = 0, BreakerFailureRatio = 0.5)]
    public partial Task<string> ReplyAsync(string question, CancellationToken cancellationToken = default);

    private Task<string> AskCoreAsync(string question, CancellationToken cancellationToken) => model.RespondAsync(question, cancellationToken);

    private Task<string> ReplyCoreAsync(string question, CancellationToken cancellationToken) => model.RespondAsync(question, cancellationToken);
}
