using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Hosting;
using LlmGuard.Infrastructure;
using LlmGuard.Streaming;
using LlmGuard.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static LlmGuard.Tests.Streaming.StreamReading;

namespace LlmGuard.Tests.Streaming;

/// <summary>A stream's effective settings: the generated constants, overridden by the scene's configuration, read once per upstream.</summary>
public sealed class StreamSettingsTests
{
    private const string Scene = "stream_settings";
    private readonly TimerAwareFakeTimeProvider _time = new();
    private readonly ScriptedUpstream _upstream = new();

    [Fact]
    public async Task A_scene_FirstItemTimeoutMs_overrides_the_generated_constant()
    {
        GuardRuntime runtime = Runtime(new LlmSceneOptions { FirstItemTimeoutMs = 300 });
        GuardedStreamMethodState<string> state = Method(firstItemTimeoutMs: 5_000).For(runtime);
        Task<List<string>> consumer = ReadAllAsync(Stream(state, "k"));
        CancellationToken attempt = await _upstream.NextStartAsync();
        await _time.WhenTimersScheduledAsync().WaitAsync(Bound);

        _time.Advance(TimeSpan.FromMilliseconds(299));
        Assert.False(attempt.IsCancellationRequested);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        await Assert.ThrowsAsync<TimeoutException>(() => consumer.WaitAsync(Bound));
    }

    [Fact]
    public async Task A_scene_TimeoutMs_bounds_both_the_first_item_and_the_idle_deadline()
    {
        GuardRuntime runtime = Runtime(new LlmSceneOptions { TimeoutMs = 500 });
        GuardedStreamMethodState<string> state = Method(firstItemTimeoutMs: 0, idleTimeoutMs: 0).For(runtime);

        // No first item within the scene's 500 ms.
        Task<List<string>> waiting = ReadAllAsync(Stream(state, "k"));
        CancellationToken firstAttempt = await _upstream.NextStartAsync();
        await _time.WhenTimersScheduledAsync().WaitAsync(Bound);
        _time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(firstAttempt.IsCancellationRequested);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        await Assert.ThrowsAsync<TimeoutException>(() => waiting.WaitAsync(Bound));

        // A first item, then nothing for the scene's 500 ms.
        await using IAsyncEnumerator<string> idle = Stream(state, "k").GetAsyncEnumerator();
        Task<List<string>> first = TakeAsync(idle, 1);
        await _upstream.NextStartAsync();
        _upstream.Yield("a");
        Assert.Equal(["a"], await first);
        await _time.WhenTimersScheduledAsync().WaitAsync(Bound);
        _time.Advance(TimeSpan.FromMilliseconds(500));

        LlmStreamInterruptedException interrupted = await Assert.ThrowsAsync<LlmStreamInterruptedException>(() => RestAsync(idle));
        Assert.IsType<TimeoutException>(interrupted.InnerException);
    }

    [Fact]
    public async Task A_reload_applies_to_the_next_upstream_and_the_running_one_keeps_its_settings()
    {
        var runtime = new GuardRuntime(_time);
        GuardedStreamMethodState<string> state = Method(idleTimeoutMs: 1_000).For(runtime);
        await using IAsyncEnumerator<string> running = Stream(state, "running").GetAsyncEnumerator();
        Task<List<string>> first = TakeAsync(running, 1);
        await _upstream.NextStartAsync();
        _upstream.Yield("a");
        Assert.Equal(["a"], await first);
        await _time.WhenTimersScheduledAsync().WaitAsync(Bound);

        runtime.Reconfigure(Options(new LlmSceneOptions { IdleTimeoutMs = 200, FirstItemTimeoutMs = 200 }));

        // The running upstream still allows its 1 000 ms; a new one gets the reloaded 200 ms.
        _time.Advance(TimeSpan.FromMilliseconds(200));
        Task<List<string>> next = ReadAllAsync(Stream(state, "next"));
        CancellationToken nextAttempt = await _upstream.NextStartAsync();
        await _time.WhenTimersScheduledAsync(2).WaitAsync(Bound);
        _time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.True(nextAttempt.IsCancellationRequested);
        await Assert.ThrowsAsync<TimeoutException>(() => next.WaitAsync(Bound));

        _upstream.Yield("b");
        _upstream.Complete();
        Assert.Equal(["b"], await RestAsync(running));
    }

    [Fact]
    public void Out_of_range_stream_settings_are_refused_with_the_scene_the_key_and_the_range()
    {
        ArgumentException failure = Assert.Throws<ArgumentException>(
            () => Runtime(new LlmSceneOptions { StreamReplayItems = 0, IdleTimeoutMs = 5, FirstItemTimeoutMs = 86_400_001 }));

        Assert.Contains($"LlmGuard:Scenes:{Scene}:StreamReplayItems is 0, out of range; allowed: 1 to 1000000.", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"LlmGuard:Scenes:{Scene}:IdleTimeoutMs is 5, out of range; allowed: 0 (no timeout) or 10 to 86400000.", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"LlmGuard:Scenes:{Scene}:FirstItemTimeoutMs is 86400001, out of range", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_configuration_binder_reads_the_three_stream_keys()
    {
        IConfigurationRoot configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [$"LlmGuard:Scenes:{Scene}:FirstItemTimeoutMs"] = "1500",
            [$"LlmGuard:Scenes:{Scene}:IdleTimeoutMs"] = "700",
            [$"LlmGuard:Scenes:{Scene}:StreamReplayItems"] = "32",
        }).Build();
        using ServiceProvider services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).BuildServiceProvider();
        var options = new LlmGuardOptions();

        new LlmGuardConfigurationBinder(services).Configure(options);

        LlmSceneOptions scene = options.Scenes[Scene];
        Assert.Equal((1500, 700, 32), (scene.FirstItemTimeoutMs, scene.IdleTimeoutMs, scene.StreamReplayItems));
        Assert.Empty(LlmGuardOptionsValidation.Validate(options, requireKnownScenes: false, configuration.GetSection(LlmGuardOptionsValidation.ScenesSection)));
    }

    [Fact]
    public void The_method_refuses_a_replay_bound_and_a_cache_without_version_out_of_range()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Method(replayItems: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Method(replayItems: 1_000_001));
        Assert.ThrowsAny<ArgumentException>(() => new GuardedStreamMethod<string>(Scene, 0, 0, 0, 0, cacheSeconds: 60));
        Assert.Throws<ArgumentOutOfRangeException>(() => new GuardedStreamMethod<string>(Scene, 0, 0, 0, 0, breakerFailureRatio: 1.5));
    }

    private static GuardedStreamMethod<string> Method(int firstItemTimeoutMs = 0, int idleTimeoutMs = 0, int replayItems = GuardedAttribute.DefaultStreamReplayItems) =>
        new(Scene, firstItemTimeoutMs, idleTimeoutMs, maxRetries: 0, retryDelayMs: 0, replayItems: replayItems);

    private static LlmGuardOptions Options(LlmSceneOptions scene) => new() { Scenes = { [Scene] = scene } };

    private GuardRuntime Runtime(LlmSceneOptions scene) => new(_time) { Options = Options(scene) };

    private IAsyncEnumerable<string> Stream(GuardedStreamMethodState<string> state, string key) =>
        state.Stream(key, key, _upstream.RunAsync, null, CancellationToken.None);
}
