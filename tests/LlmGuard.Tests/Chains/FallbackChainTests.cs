using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded;

namespace LlmGuard.Tests.Chains;

/// <summary>
/// A fallback chain at run time: the primary's fallback is another guarded method, which runs as its own guarded call
/// inside the primary's execution, with the primary's execution token.
/// </summary>
public sealed class FallbackChainTests : IDisposable
{
    private readonly TimerAwareFakeTimeProvider _time = new();
    private readonly ScriptedModel _large = new();
    private readonly ScriptedModel _small = new();
    private readonly GuardRuntime _runtime;
    private readonly TieredAssistant _assistant;

    public FallbackChainTests()
    {
        _runtime = new GuardRuntime(_time);
        _assistant = new TieredAssistant(_runtime, _large, _small);
    }

    // Every scenario ends with nothing in flight, on either level.
    public void Dispose() => Assert.Equal(0, _runtime.InFlightCount);

    [Fact]
    public async Task When_the_primary_times_out_the_smaller_model_answers_every_caller()
    {
        Task<Reply>[] callers = Enumerable.Range(0, 3).Select(_ => _assistant.AskAsync("where is my order?")).ToArray();
        ModelCall large = await _large.NextCallAsync();

        _time.Advance(TimeSpan.FromMilliseconds(800));
        ModelCall small = await _small.NextCallAsync();
        Assert.True(large.Token.IsCancellationRequested);
        Assert.Equal("where is my order?", small.Prompt);
        small.Succeed("It ships today.");

        Reply[] replies = await Task.WhenAll(callers).Within();
        Assert.All(replies, reply => Assert.Same(replies[0], reply));
        Assert.Equal("It ships today.", replies[0].Text);
        Assert.Equal(1, _large.Calls);
        Assert.Equal(1, _small.Calls);
        Assert.Equal(0, _assistant.StaticReplies);
    }

    [Fact]
    public async Task When_both_models_fail_the_static_reply_of_the_smaller_level_answers()
    {
        Task<Reply> caller = _assistant.AskAsync("refund?");
        (await _large.NextCallAsync()).Fail(new IOException("connection reset"));
        (await _small.NextCallAsync()).Fail(new InvalidOperationException("401: invalid API key"));

        Assert.Equal("All our assistants are busy; an agent will answer refund?.", (await caller.Within()).Text);
        Assert.Equal(1, _assistant.StaticReplies);
    }

    [Fact]
    public async Task The_smaller_model_runs_nested_inside_the_primarys_execution_without_tripping_the_recursion_check()
    {
        Task<Reply> caller = _assistant.AskAsync("q");
        (await _large.NextCallAsync()).Fail(new IOException("reset"));
        ModelCall small = await _small.NextCallAsync();

        // The smaller level's execution is a child of the primary's, in the same flow, yet a call of another method.
        Assert.NotNull(_assistant.SmallFlight);
        Assert.Equal("tier_small:q", _assistant.SmallFlight!.Key);
        Assert.Equal("tier_large:q", _assistant.SmallFlight.Parent?.Key);
        small.Succeed("a");

        Assert.Equal("a", (await caller.Within()).Text);
    }

    [Fact]
    public async Task A_guarded_fallback_with_the_same_scene_and_key_as_its_primary_is_not_taken_for_recursion()
    {
        // Both levels build "tier_twin:q": only a call of the same method for that key would wait for itself.
        Task<Reply> caller = _assistant.AskTwinAsync("q");
        (await _large.NextCallAsync()).Fail(new IOException("reset"));
        (await _small.NextCallAsync()).Succeed("from the twin");

        Assert.Equal("from the twin", (await caller.Within()).Text);
    }

    [Fact]
    public async Task Two_primaries_failing_together_share_one_execution_of_the_smaller_model()
    {
        Task<Reply> first = _assistant.AskAsync("q");
        Task<Reply> second = _assistant.AskOtherAsync("q");
        ModelCall a = await _large.NextCallAsync();
        ModelCall b = await _large.NextCallAsync();

        a.Fail(new IOException("reset"));
        ModelCall small = await _small.NextCallAsync();
        b.Fail(new IOException("reset"));

        // The second primary's fallback joins the smaller model's execution in flight for the same key.
        await Eventually.Until(() => _assistant.SmallFlight!.Callers == 2, "both primaries wait for the smaller model");
        small.Succeed("shared");

        Assert.Same(await first.Within(), await second.Within());
        Assert.Equal(1, _small.Calls);
    }

    [Fact]
    public async Task Cancelling_every_caller_of_the_primary_cancels_the_smaller_models_call_and_no_static_reply_runs()
    {
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();
        Task<Reply> a = _assistant.AskAsync("q", first.Token);
        Task<Reply> b = _assistant.AskAsync("q", second.Token);
        (await _large.NextCallAsync()).Fail(new IOException("reset"));
        ModelCall small = await _small.NextCallAsync();

        first.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => a.Within());
        Assert.False(small.Token.IsCancellationRequested);

        second.Cancel();
        OperationCanceledException cancelled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => b.Within());
        Assert.Equal(second.Token, cancelled.CancellationToken);
        await small.Ended;
        Assert.True(small.Token.IsCancellationRequested);
        await Eventually.Until(() => _runtime.InFlightCount == 0, "both levels' executions end");
        Assert.Equal(0, _assistant.StaticReplies);
    }

    [Fact]
    public async Task When_the_primarys_callers_leave_the_smaller_model_goes_on_for_its_own_callers()
    {
        using var leaving = new CancellationTokenSource();
        Task<Reply> primary = _assistant.AskAsync("q", leaving.Token);
        (await _large.NextCallAsync()).Fail(new IOException("reset"));
        ModelCall small = await _small.NextCallAsync();
        Task<Reply> direct = _assistant.AskSmallAsync("q");
        await Eventually.Until(() => _assistant.SmallFlight!.Callers == 2, "the direct caller joins the smaller model's execution");

        leaving.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => primary.Within());
        Assert.False(small.Token.IsCancellationRequested);
        small.Succeed("still answered");

        Assert.Equal("still answered", (await direct.Within()).Text);
    }

    [Fact]
    public async Task Under_concurrent_callers_of_both_levels_every_caller_gets_the_answer_to_its_own_question()
    {
        // Seeded, so a failure replays: 8 threads, 250 calls each, over 6 questions, a quarter of them cancelled at a
        // random moment. Every answer must be the smaller model's answer to the caller's own question; nothing may
        // be refused as recursion, and every execution of both levels ends.
        var assistant = new QuickTieredAssistant(_runtime);
        const int Threads = 8;
        const int CallsPerThread = 250;
        int answered = 0;
        int cancelled = 0;
        Task[] workers = Enumerable.Range(0, Threads).Select(worker => Task.Run(async () =>
        {
            var random = new Random(1000 + worker);
            for (int i = 0; i < CallsPerThread; i++)
            {
                string question = "q" + random.Next(6);
                using var leaving = new CancellationTokenSource();
                Task<Reply> call = random.Next(3) switch
                {
                    0 => assistant.AskAsync(question, leaving.Token),
                    1 => assistant.AskOtherAsync(question, leaving.Token),
                    _ => assistant.AskSmallAsync(question, leaving.Token),
                };
                if (random.Next(4) == 0)
                {
                    await Task.Yield();
                    leaving.Cancel();
                }

                try
                {
                    Assert.Equal(question, (await call).Text);
                    Interlocked.Increment(ref answered);
                }
                catch (OperationCanceledException exception) when (exception.CancellationToken == leaving.Token)
                {
                    Interlocked.Increment(ref cancelled);
                }
            }
        })).ToArray();

        await Task.WhenAll(workers).Within(60);

        Assert.Equal(Threads * CallsPerThread, answered + cancelled);
        Assert.True(answered > Threads * CallsPerThread / 2, $"only {answered} calls were answered");
        await Eventually.Until(() => _runtime.InFlightCount == 0, "every execution of both levels ends");
    }
}
