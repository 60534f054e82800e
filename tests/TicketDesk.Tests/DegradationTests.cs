using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Json;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Simulation;
using TicketDesk.Help;

namespace TicketDesk.Tests;

/// <summary>
/// The four levels of <c>POST /help/answer</c> (primary model, smaller model, static reply, shedding), each reached by
/// what the provider does and by appsettings.json's thresholds, with the test host's settings changing only bounds.
/// Every host runs on a <see cref="FakeTimeProvider"/>: the primary's 800 ms timeout fires when a test moves the
/// clock, never because a loaded machine was slow to send a request.
/// </summary>
public sealed class DegradationTests
{
    private const string Large = "ticketdesk-large";
    private const string Small = "ticketdesk-small";

    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_healthy_primary_model_answers()
    {
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(timeProvider: new FakeTimeProvider());
        using var fallbacks = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), "LlmGuard", "llmguard.fallbacks");
        using HttpClient client = host.CreateClient(tenant: "acme");

        Asked asked = await AskAsync(client, "Where is my order 1042?");

        Assert.Equal(HttpStatusCode.OK, asked.Status);
        Assert.Equal(HelpAnswer.Primary, asked.Answer.Source);
        Assert.Contains("Where is my order 1042?", asked.Answer.Text, StringComparison.Ordinal);
        Assert.Equal([Large], host.Provider.Received.Select(request => request.Model));
        Assert.Empty(fallbacks.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task A_primary_model_that_is_down_is_answered_by_the_smaller_model()
    {
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(options => Down(options, Large), timeProvider: new FakeTimeProvider());
        using var fallbacks = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), "LlmGuard", "llmguard.fallbacks");
        using HttpClient client = host.CreateClient(tenant: "acme");

        Asked asked = await AskAsync(client, "Can I return shoes I wore once?");

        Assert.Equal(HttpStatusCode.OK, asked.Status);
        Assert.Equal(HelpAnswer.Small, asked.Answer.Source);
        Assert.Contains("Can I return shoes I wore once?", asked.Answer.Text, StringComparison.Ordinal);

        // answer_primary has MaxRetries 0: one request to the primary model, then the smaller model.
        Assert.Equal([Large, Small], host.Provider.Received.Select(request => request.Model));
        Assert.Equal(["answer_primary -> answer_small"], Levels(fallbacks));
    }

    [Fact]
    public async Task A_primary_model_slower_than_800_ms_is_answered_by_the_smaller_model()
    {
        var clock = new FakeTimeProvider();
        var neverAnswered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            await using TicketDeskHost host = await TicketDeskHost.StartAsync(
                options => options with { Models = new Dictionary<string, SimulatedProviderOptions> { [Large] = options with { HoldAnswersUntil = neverAnswered.Task } } },
                timeProvider: clock);
            IMeterFactory meters = host.Services.GetRequiredService<IMeterFactory>();
            using var attempts = new MetricCollector<long>(meters, "LlmGuard", "llmguard.attempts");
            using var fallbacks = new MetricCollector<long>(meters, "LlmGuard", "llmguard.fallbacks");
            using HttpClient client = host.CreateClient(tenant: "acme");

            Task<Asked> asking = AskAsync(client, "Do you ship to Norway?");
            await host.Provider.WhenReceived(1).WaitAsync(s_bound);

            // The primary's attempt started before its request reached the provider, so its 800 ms timeout is due.
            clock.Advance(TimeSpan.FromMilliseconds(800));
            Asked asked = await asking.WaitAsync(s_bound);

            Assert.Equal(HttpStatusCode.OK, asked.Status);
            Assert.Equal(HelpAnswer.Small, asked.Answer.Source);
            Assert.Equal([Large, Small], host.Provider.Received.Select(request => request.Model));
            Assert.Equal(
                ["answer_primary/timeout", "answer_small/success"],
                attempts.GetMeasurementSnapshot().Select(m => $"{m.Tags["llmguard.scene"]}/{m.Tags["llmguard.attempt.result"]}").Order(StringComparer.Ordinal));
            Assert.Equal(["answer_primary -> answer_small"], Levels(fallbacks));
        }
        finally
        {
            // Lets the simulated provider's held request end, so the host stops at once.
            neverAnswered.SetResult();
        }
    }

    [Fact]
    public async Task Both_models_down_get_the_static_busy_reply()
    {
        // No retry delay: the clock stands still, so the smaller model's retry goes out at once.
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(
            options => Down(options, Large, Small),
            timeProvider: new FakeTimeProvider(),
            settings: new Dictionary<string, string?> { ["LlmGuard:Scenes:answer_small:RetryDelayMs"] = "0" });
        using var fallbacks = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), "LlmGuard", "llmguard.fallbacks");
        using HttpClient client = host.CreateClient(tenant: "acme");

        Asked asked = await AskAsync(client, "Why was I charged twice?");

        // The customer still gets an answer, not an error: the static level promises a human.
        Assert.Equal(HttpStatusCode.OK, asked.Status);
        Assert.Equal(new HelpAnswer("We're busy right now; an agent will reply to your question shortly.", HelpAnswer.Static), asked.Answer);
        Assert.Null(asked.RetryAfter);

        // answer_small has MaxRetries 1: the smaller model is asked twice before the static reply.
        Assert.Equal([Large, Small, Small], host.Provider.Received.Select(request => request.Model));
        Assert.Equal(["answer_primary -> answer_small", "answer_small -> method"], Levels(fallbacks));
    }

    [Fact]
    public async Task Once_the_primary_breaker_opens_questions_go_to_the_smaller_model_without_asking_the_primary()
    {
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(
            options => Down(options, Large),
            timeProvider: new FakeTimeProvider(),
            settings: new Dictionary<string, string?> { ["LlmGuard:Scenes:answer_primary:BreakerMinimumThroughput"] = "2" });
        using var rejections = new MetricCollector<long>(host.Services.GetRequiredService<IMeterFactory>(), "LlmGuard", "llmguard.rejections");
        using HttpClient client = host.CreateClient(tenant: "acme");

        // Two failures of two executions reach BreakerFailureRatio 0.5 with the lowered minimum throughput.
        Asked first = await AskAsync(client, "Question one");
        Asked second = await AskAsync(client, "Question two");
        int primaryRequests = host.Provider.Received.Count(request => request.Model == Large);
        Asked third = await AskAsync(client, "Question three");

        Assert.All([first, second, third], asked => Assert.Equal(HelpAnswer.Small, asked.Answer.Source));
        Assert.Equal(2, primaryRequests);
        Assert.Equal([Large, Small, Large, Small, Small], host.Provider.Received.Select(request => request.Model));
        CollectedMeasurement<long> rejection = Assert.Single(rejections.GetMeasurementSnapshot());
        Assert.Equal("answer_primary", rejection.Tags["llmguard.scene"]);
        Assert.Equal("breaker", rejection.Tags["llmguard.rejection.reason"]);
    }

    [Fact]
    public Task A_burst_past_both_scenes_bounds_is_shed_at_once_and_every_request_is_answered_by_one_level() =>
        BurstAsync(burst: 40, primaryConcurrency: 2, primaryQueue: 3, smallConcurrency: 1, smallQueue: 2);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public Task Random_bursts_and_bounds_shed_exactly_what_the_bounds_leave_and_lose_no_request(int seed)
    {
        var random = new Random(seed);
        int primaryConcurrency = random.Next(1, 5), primaryQueue = random.Next(0, 5), smallConcurrency = random.Next(1, 5), smallQueue = random.Next(0, 5);
        int admitted = primaryConcurrency + primaryQueue + smallConcurrency + smallQueue;
        return BurstAsync(random.Next(admitted + 1, 61), primaryConcurrency, primaryQueue, smallConcurrency, smallQueue);
    }

    private static async Task BurstAsync(int burst, int primaryConcurrency, int primaryQueue, int smallConcurrency, int smallQueue)
    {
        int admitted = primaryConcurrency + primaryQueue + smallConcurrency + smallQueue;

        // The models answer only when the test says, so nothing an admitted request holds is freed during the burst;
        // the clock never moves, so no timeout fires either.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using TicketDeskHost host = await TicketDeskHost.StartAsync(
            options => options with { HoldAnswersUntil = release.Task },
            timeProvider: new FakeTimeProvider(),
            settings: new Dictionary<string, string?>
            {
                ["LlmGuard:Scenes:answer_primary:MaxConcurrency"] = $"{primaryConcurrency}",
                ["LlmGuard:Scenes:answer_primary:MaxQueue"] = $"{primaryQueue}",
                ["LlmGuard:Scenes:answer_small:MaxConcurrency"] = $"{smallConcurrency}",
                ["LlmGuard:Scenes:answer_small:MaxQueue"] = $"{smallQueue}",
            });
        IMeterFactory meters = host.Services.GetRequiredService<IMeterFactory>();
        using var fallbacks = new MetricCollector<long>(meters, "LlmGuard", "llmguard.fallbacks");
        using var rejections = new MetricCollector<long>(meters, "LlmGuard", "llmguard.rejections");
        using HttpClient client = host.CreateClient(tenant: "acme");

        var answers = new Asked?[burst];
        var failures = new Exception?[burst];
        int ended = 0;
        var shedEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var start = new Barrier(burst);
        Thread[] threads =
        [
            .. Enumerable.Range(0, burst).Select(i => new Thread(() =>
            {
                start.SignalAndWait(s_bound);
                try
                {
                    // Distinct questions: no request joins another's execution, each one needs a permit of its own.
                    answers[i] = AskAsync(client, $"Question {i}").WaitAsync(s_bound).GetAwaiter().GetResult();
                }
                catch (Exception exception)
                {
                    // Kept for the assertions: an exception escaping a thread would end the test process.
                    failures[i] = exception;
                }
                finally
                {
                    if (Interlocked.Increment(ref ended) == burst - admitted)
                    {
                        shedEnded.SetResult();
                    }
                }
            })),
        ];
        foreach (Thread thread in threads)
        {
            thread.Start();
        }

        try
        {
            // Shed at once: every request past the bounds is answered while the admitted ones still wait for the
            // models, and only the running executions reached them (the queued ones wait for a permit).
            await shedEnded.Task.WaitAsync(s_bound);
            await host.Provider.WhenReceived(primaryConcurrency + smallConcurrency).WaitAsync(s_bound);
            Assert.Equal(new Exception?[burst], failures);
            Asked[] shed = [.. answers.OfType<Asked>()];
            Assert.Equal(burst - admitted, shed.Length);
            Assert.All(shed, asked =>
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, asked.Status);
                Assert.Equal(HelpAnswer.Shed, asked.Answer.Source);
                Assert.Equal(TimeSpan.FromSeconds(2), asked.RetryAfter);
            });
            Assert.Equal(primaryConcurrency + smallConcurrency, host.Provider.Requests);
        }
        finally
        {
            // Also after a failed assertion, so the held requests and their threads end.
            release.TrySetResult();
        }

        foreach (Thread thread in threads)
        {
            Assert.True(thread.Join(s_bound), "A request of the burst was not answered.");
        }

        // None lost: every request got an answer from exactly one level.
        Assert.Equal(new Exception?[burst], failures);
        Assert.Equal(
            new Dictionary<string, int>
            {
                [HelpAnswer.Primary] = primaryConcurrency + primaryQueue,
                [HelpAnswer.Small] = smallConcurrency + smallQueue,
                [HelpAnswer.Shed] = burst - admitted,
            },
            answers.Select(asked => asked!.Answer.Source).CountBy(source => source).ToDictionary());
        Assert.Equal(primaryConcurrency + primaryQueue, host.Provider.Received.Count(request => request.Model == Large));
        Assert.Equal(smallConcurrency + smallQueue, host.Provider.Received.Count(request => request.Model == Small));

        // The metrics tell the same story: the primary's limit sent its overflow to the smaller model, whose limit
        // shed what it could not take.
        Assert.Equal(
            new Dictionary<string, long>
            {
                ["answer_primary -> answer_small"] = burst - (primaryConcurrency + primaryQueue),
                ["answer_small -> method"] = burst - admitted,
            },
            Levels(fallbacks).CountBy(level => level).ToDictionary(level => level.Key, level => (long)level.Value));
        Assert.Equal(
            new Dictionary<string, long>
            {
                ["answer_primary/limit"] = burst - (primaryConcurrency + primaryQueue),
                ["answer_small/limit"] = burst - admitted,
            },
            rejections.GetMeasurementSnapshot()
                .GroupBy(m => $"{m.Tags["llmguard.scene"]}/{m.Tags["llmguard.rejection.reason"]}")
                .ToDictionary(group => group.Key, group => group.Sum(m => m.Value)));
    }

    private static SimulatedProviderOptions Down(SimulatedProviderOptions options, params string[] models) =>
        options with { Models = models.ToDictionary(model => model, _ => options with { UnavailableRate = 1 }) };

    // Which level answered each fallback, as "scene -> level", one entry per measurement.
    private static string[] Levels(MetricCollector<long> fallbacks) =>
    [
        .. fallbacks.GetMeasurementSnapshot()
            .SelectMany(m => Enumerable.Repeat($"{m.Tags["llmguard.scene"]} -> {m.Tags["llmguard.fallback"]}", (int)m.Value))
            .Order(StringComparer.Ordinal),
    ];

    private static async Task<Asked> AskAsync(HttpClient client, string question)
    {
        using HttpResponseMessage response = await client.PostAsJsonAsync("/help/answer", new HelpQuestion(question)).WaitAsync(s_bound);
        HelpAnswer answer = (await response.Content.ReadFromJsonAsync<HelpAnswer>())!;
        return new Asked(response.StatusCode, answer, response.Headers.RetryAfter?.Delta);
    }

    private sealed record Asked(HttpStatusCode Status, HelpAnswer Answer, TimeSpan? RetryAfter);
}
