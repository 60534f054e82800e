using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Tests.Fakes;
using Polly.Timeout;

namespace LlmGuard.Tests.Configuration;

/// <summary>
/// A reload that races with a guarded method's first call on a runtime: the method's state, created by that call,
/// must end up with the reloaded settings whichever of the two finishes first.
/// </summary>
public sealed class ReconfigurationRaceTests
{
    private const int Iterations = 300;

    [Fact]
    public async Task A_state_created_after_a_reload_uses_the_reloaded_settings()
    {
        var time = new TimerAwareFakeTimeProvider();
        var model = new ScriptedModel();
        GuardRuntime runtime = CreateRuntime(time);
        runtime.Reconfigure(Timeout(200));

        await AssertNextCallTimesOutAfterAsync(new ConfiguredAssistant(runtime, model), model, time, "q", 200);
    }

    [Fact]
    public async Task A_reload_during_the_first_call_leaves_later_calls_on_the_reloaded_settings()
    {
        for (int i = 0; i < Iterations; i++)
        {
            var time = new TimerAwareFakeTimeProvider();
            var model = new ScriptedModel();
            GuardRuntime runtime = CreateRuntime(time);
            var assistant = new ConfiguredAssistant(runtime, model);
            LlmGuardOptions reloaded = Timeout(200);
            using var start = new Barrier(2);

            // Two real threads released together; StartNew, unlike Task.Run, hands back the call's task without awaiting it.
            Task reload = Task.Factory.StartNew(
                () =>
                {
                    start.SignalAndWait();
                    runtime.Reconfigure(reloaded);
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            Task<Task<string>> first = Task.Factory.StartNew(
                () =>
                {
                    start.SignalAndWait();
                    return assistant.AskAsync("first");
                },
                CancellationToken.None,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            await reload.Within();
            Task<string> firstCall = await first.Within();
            ModelCall firstAttempt = await model.NextCallAsync();

            // The first call may have started under either setting; every call after both finished must use the reload's.
            await AssertNextCallTimesOutAfterAsync(assistant, model, time, "second", 200);
            time.Advance(TimeSpan.FromMilliseconds(1000));
            await Assert.ThrowsAsync<TimeoutRejectedException>(() => firstCall.Within());
            Assert.True(firstAttempt.Token.IsCancellationRequested);
            Assert.Equal(0, runtime.InFlightCount);
        }
    }

    private static GuardRuntime CreateRuntime(TimeProvider time) => new(time) { Options = Timeout(1000) };

    private static LlmGuardOptions Timeout(int timeoutMs) =>
        new() { Scenes = { [ConfiguredAssistant.ReplyScene] = new LlmSceneOptions { TimeoutMs = timeoutMs } } };

    private static async Task AssertNextCallTimesOutAfterAsync(ConfiguredAssistant assistant, ScriptedModel model, TimerAwareFakeTimeProvider time, string question, int timeoutMs)
    {
        Task<string> call = assistant.AskAsync(question);
        ModelCall attempt = await model.NextCallAsync();
        Assert.Equal(question, attempt.Prompt);
        time.Advance(TimeSpan.FromMilliseconds(timeoutMs - 1));
        Assert.False(attempt.Token.IsCancellationRequested);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await Assert.ThrowsAsync<TimeoutRejectedException>(() => call.Within());
    }
}
