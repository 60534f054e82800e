using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Configuration;
using LlmGuard.Distribution;
using LlmGuard.Tests.Fakes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace LlmGuard.Tests.Distribution;

/// <summary>The runtime's hook for sharing executions across instances: which executions reach it, and what its failures do.</summary>
public sealed class DistributedFlightsTests
{
    private readonly TimerAwareFakeTimeProvider _time = new();
    private readonly ScriptedModel _model = new();

    private GuardRuntime Runtime(IDistributedFlights flights) => new(_time)
    {
        Options = new LlmGuardOptions
        {
            Scenes =
            {
                [DistributedAssistant.SharedScene] = new LlmSceneOptions { Distributed = true },
                [DistributedAssistant.StreamScene] = new LlmSceneOptions { Distributed = true },
                [DistributedAssistant.MergeScene] = new LlmSceneOptions { Distributed = true },
            },
        },
        DistributedFlights = flights,
    };

    [Fact]
    public async Task Concurrent_calls_of_a_distributed_scene_offer_their_one_local_execution_to_the_hook()
    {
        var flights = new RecordingFlights { Mode = RecordingFlights.Behaviour.RunHere };
        GuardRuntime runtime = Runtime(flights);
        var assistant = new DistributedAssistant(runtime, _model);

        Task<string> first = assistant.AskAsync("which plan");
        Task<string> second = assistant.AskAsync("which plan");
        ModelCall call = await _model.NextCallAsync();
        call.Succeed("a");

        Assert.Equal("a", await first.Within());
        Assert.Equal("a", await second.Within());
        (string scene, string key) = Assert.Single(flights.Offered);
        Assert.Equal(DistributedAssistant.SharedScene, scene);
        Assert.Contains("which plan", key, StringComparison.Ordinal);
        Assert.Equal(1, _model.Calls);
        Assert.Equal(0, runtime.InFlightCount);
    }

    [Fact]
    public async Task Two_methods_of_one_scene_with_equal_guard_keys_offer_different_keys_to_the_hook()
    {
        // Across instances nothing else tells the two executions apart: equal keys would answer one method's callers with
        // the other's result.
        var flights = new RecordingFlights { Mode = RecordingFlights.Behaviour.RunHere };
        var assistant = new DistributedAssistant(Runtime(flights), _model);

        Task<string> asked = assistant.AskAsync("which plan");
        (await _model.NextCallAsync()).Succeed("the yearly plan");
        Task<string> summarized = assistant.SummarizeAsync("which plan");
        (await _model.NextCallAsync()).Succeed("a summary");

        Assert.Equal("the yearly plan", await asked.Within());
        Assert.Equal("a summary", await summarized.Within());
        string[] keys = flights.Offered.Select(offered => offered.Key).ToArray();
        Assert.Equal(2, keys.Length);
        Assert.NotEqual(keys[0], keys[1]);
        Assert.All(keys, key => Assert.EndsWith(DistributedAssistant.SharedScene + ":which plan", key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_scene_without_Distributed_never_reaches_the_hook()
    {
        var flights = new RecordingFlights { Mode = RecordingFlights.Behaviour.AnswerFromElsewhere };
        var assistant = new DistributedAssistant(Runtime(flights), _model);

        Task<string> answer = assistant.AskLocallyAsync("q");
        (await _model.NextCallAsync()).Succeed("local");

        Assert.Equal("local", await answer.Within());
        Assert.Empty(flights.Offered);
    }

    [Fact]
    public async Task A_stream_of_a_distributed_scene_never_reaches_the_hook()
    {
        var flights = new RecordingFlights { Mode = RecordingFlights.Behaviour.AnswerFromElsewhere };
        var assistant = new DistributedAssistant(Runtime(flights), _model);

        Task<List<string>> items = ReadAllAsync(assistant.StreamAsync("q"));
        (await _model.NextCallAsync()).Succeed("streamed here");

        Assert.Equal(["streamed here"], await items.Within());
        Assert.Empty(flights.Offered);
    }

    [Fact]
    public async Task A_merge_window_of_a_distributed_scene_never_reaches_the_hook()
    {
        // The window's key names the session only; another instance's batch of the same session holds other messages.
        var flights = new RecordingFlights { Mode = RecordingFlights.Behaviour.AnswerFromElsewhere };
        var assistant = new DistributedAssistant(Runtime(flights), _model);

        Task<string> first = assistant.ReplyToBurstAsync("s1", "hello");
        Task<string> second = assistant.ReplyToBurstAsync("s1", "my order");
        await _time.WhenTimersScheduledAsync();
        _time.Advance(TimeSpan.FromMilliseconds(100));
        ModelCall call = await _model.NextCallAsync();
        Assert.Equal("hello / my order", call.Prompt);
        call.Succeed("merged here");

        Assert.Equal("merged here", await first.Within());
        Assert.Equal("merged here", await second.Within());
        Assert.Empty(flights.Offered);
    }

    private static async Task<List<string>> ReadAllAsync(IAsyncEnumerable<string> stream)
    {
        var items = new List<string>();
        await foreach (string item in stream)
        {
            items.Add(item);
        }

        return items;
    }

    [Fact]
    public async Task An_answer_from_another_instance_reaches_the_callers_without_calling_the_model()
    {
        var flights = new RecordingFlights { Mode = RecordingFlights.Behaviour.AnswerFromElsewhere, RemoteAnswer = "remote" };
        var assistant = new DistributedAssistant(Runtime(flights), _model);

        Assert.Equal("remote", await assistant.AskAsync("q").Within());
        Assert.Equal(0, _model.Calls);
    }

    [Fact]
    public async Task A_hook_that_fails_before_running_the_execution_has_it_run_locally()
    {
        var flights = new RecordingFlights { Mode = RecordingFlights.Behaviour.FailBeforeRunning };
        var assistant = new DistributedAssistant(Runtime(flights), _model);

        Task<string> answer = assistant.AskAsync("q");
        (await _model.NextCallAsync()).Succeed("local");

        Assert.Equal("local", await answer.Within());
        Assert.Single(flights.Offered);
        Assert.Equal(1, _model.Calls);
    }

    [Fact]
    public async Task A_hook_that_fails_after_running_the_execution_answers_with_its_result_without_a_second_model_call()
    {
        var flights = new RecordingFlights { Mode = RecordingFlights.Behaviour.FailAfterRunning };
        var assistant = new DistributedAssistant(Runtime(flights), _model);

        Task<string> answer = assistant.AskAsync("q");
        (await _model.NextCallAsync()).Succeed("local");

        Assert.Equal("local", await answer.Within());
        Assert.Equal(1, _model.Calls);
    }

    [Fact]
    public async Task A_failure_of_the_execution_the_hook_ran_reaches_the_caller_and_is_not_retried_locally()
    {
        var flights = new RecordingFlights { Mode = RecordingFlights.Behaviour.RunHere };
        var assistant = new DistributedAssistant(Runtime(flights), _model);

        Task<string> answer = assistant.AskAsync("q");
        (await _model.NextCallAsync()).Fail(new FormatException("bad answer"));

        await Assert.ThrowsAsync<FormatException>(() => answer.Within());
        Assert.Equal(1, _model.Calls);
    }

    [Fact]
    public void AddLlmGuard_gives_the_runtime_the_registered_hook_and_the_scene_opt_in_binds_from_configuration()
    {
        var flights = new RecordingFlights();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection([new("LlmGuard:Scenes:" + DistributedAssistant.SharedScene + ":Distributed", "true")])
            .Build());
        services.AddSingleton<IDistributedFlights>(flights);
        services.AddLlmGuard();
        using ServiceProvider provider = services.BuildServiceProvider();

        GuardRuntime runtime = provider.GetRequiredService<GuardRuntime>();

        Assert.Same(flights, runtime.DistributedFlights);
        Assert.True(runtime.Options!.Scenes[DistributedAssistant.SharedScene].Distributed);
    }
}
