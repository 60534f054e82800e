// A guarded program published as a native executable (net9.0, PublishAot) and as a trimmed self-contained app
// (net10.0): each behaviour of a guarded call runs once, prints one line and is checked. The output is the same on
// every run; "all checks passed" and exit code 0 only when every check holds. No reflection, no dynamic code.
using System;
using System.Collections.Generic;
using System.Diagnostics.Metrics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using AotConsole;
using LlmGuard;
using LlmGuard.Caching;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

var runtime = new GuardRuntime(TimeProvider.System);
var desk = new SupportDesk(runtime);

// "--first-call": start up, make one guarded call and exit, to measure start-up time without the checks' waits.
if (args is ["--first-call"])
{
    desk.LetAnswersFinish();
    Console.WriteLine(await desk.AnswerAsync("session-0", "hello?"));
    return 0;
}

var checks = new Checks();
TimeSpan limit = TimeSpan.FromSeconds(10);

// Singleflight: five concurrent callers of one key share one execution and one answer; once it has completed,
// the next call starts a new execution.
Task<string>[] callers = Enumerable.Range(0, 5).Select(_ => desk.AnswerAsync("session-1", "where is my order?")).ToArray();
desk.LetAnswersFinish();
string[] answers = await Task.WhenAll(callers).WaitAsync(limit);
int shared = desk.AnswerExecutions;
await desk.AnswerAsync("session-1", "where is my order?").WaitAsync(limit);
checks.Expect(
    shared == 1 && answers.All(answer => ReferenceEquals(answer, answers[0])) && desk.AnswerExecutions == 2,
    $"singleflight: {callers.Length} callers, {shared} execution; a call after it completed, {desk.AnswerExecutions - shared} new execution");

// Merge window: a burst of three messages within the 100 ms window becomes one execution that sees every message
// in order ([MergeAppend]) and the latest call's message id; every caller gets its answer.
string[] burst = ["I want to complain", "about yesterday's order", "order no. 123"];
Task<string>[] burstCalls = burst.Select((message, index) => desk.ReplyToBurstAsync("session-2", message, index + 1)).ToArray();
string[] burstReplies = await Task.WhenAll(burstCalls).WaitAsync(limit);
checks.Expect(
    desk.BurstExecutions == 1 && desk.BurstMessagesSeen == string.Join(" / ", burst) && desk.BurstMessageIdSeen == 3
        && burstReplies.All(reply => ReferenceEquals(reply, burstReplies[0])),
    $"merge window: {burstCalls.Length} calls, {desk.BurstExecutions} execution, saw \"{desk.BurstMessagesSeen}\", latest message id {desk.BurstMessageIdSeen}");

// Timeout and retry: the first attempt hangs and is cancelled by the 50 ms attempt timeout; the retry answers.
string summary = await desk.SummarizeAsync("T-7").WaitAsync(limit);
checks.Expect(
    desk.SummaryAttempts == 2 && desk.SummaryTimeouts == 1 && summary == "summary of T-7",
    $"timeout + retry: {desk.SummaryAttempts} attempts, {desk.SummaryTimeouts} timed out, answer \"{summary}\"");

// Fallback: every attempt (the first and two retries) fails with a 503, so the fallback answers.
string urgency = await desk.RateUrgencyAsync("T-8").WaitAsync(limit);
checks.Expect(
    desk.UrgencyAttempts == 3 && urgency == "T-8 handed to a human (HttpRequestException 503)",
    $"fallback: {desk.UrgencyAttempts} attempts failed, fallback answered \"{urgency}\"");

// A guarded interface member: three callers through two implementations on one runtime share one execution.
var model = new RoutingModel();
ITicketRouter first = new ModelTicketRouter(runtime, model);
ITicketRouter second = new ModelTicketRouter(runtime, model);
Task<string>[] routes =
[
    first.RouteAsync("T-9", "my invoice is wrong"),
    second.RouteAsync("T-9", "my invoice is wrong"),
    first.RouteAsync("T-9", "my invoice is wrong, again"),
];
model.LetAnswer();
string[] routed = await Task.WhenAll(routes).WaitAsync(limit);
checks.Expect(
    model.Calls == 1 && routed.All(route => route == "billing"),
    $"interface: {routes.Length} callers on 2 {nameof(ITicketRouter)} implementations, {model.Calls} execution, routed to {routed[0]}");

// Hosted: AddLlmGuard binds the scene settings from configuration (through the binding source generator, so
// without reflection) and the runtime's meter reports each call. The configuration turns the urgency scene's two
// retries off, so its fallback answers after one attempt.
IConfiguration configuration = new ConfigurationBuilder()
    .AddInMemoryCollection(new Dictionary<string, string?> { ["LlmGuard:Scenes:aot_urgency:MaxRetries"] = "0" })
    .Build();
using ServiceProvider services = new ServiceCollection()
    .AddSingleton(configuration)
    .AddMetrics()
    .AddLlmGuard().Services
    .BuildServiceProvider();
int callsMeasured = 0;
using var listener = new MeterListener
{
    InstrumentPublished = (instrument, listener) =>
    {
        if (instrument.Meter.Name == "LlmGuard" && instrument.Name == "llmguard.calls")
        {
            listener.EnableMeasurementEvents(instrument);
        }
    },
};
listener.SetMeasurementEventCallback<long>((_, measurement, _, _) => Interlocked.Add(ref callsMeasured, (int)measurement));
listener.Start();
GuardRuntime hosted = services.GetRequiredService<GuardRuntime>();
var hostedDesk = new SupportDesk(hosted);
string hostedUrgency = await hostedDesk.RateUrgencyAsync("T-10").WaitAsync(limit);
checks.Expect(
    hostedDesk.UrgencyAttempts == 1 && hostedUrgency.StartsWith("T-10 handed to a human", StringComparison.Ordinal) && callsMeasured == 1,
    $"hosted: MaxRetries 0 from configuration, {hostedDesk.UrgencyAttempts} attempt, fallback answered, {callsMeasured} call measured");

// Cache: two instances of the service, each with its own HybridCache, over one distributed cache. An answer is
// stored once; a repeat on the same instance comes from memory, on the other instance from the distributed cache,
// deserialized by the source-generated FaqJsonContext; another tenant's call runs its own execution.
var distributed = new SharedStore();
using ServiceProvider firstInstance = CacheServices(distributed);
using ServiceProvider secondInstance = CacheServices(distributed);
var firstFaq = new FaqDesk(new GuardRuntime(TimeProvider.System) { HybridCache = firstInstance.GetRequiredService<HybridCache>() });
var secondFaq = new FaqDesk(new GuardRuntime(TimeProvider.System) { HybridCache = secondInstance.GetRequiredService<HybridCache>() });
FaqAnswer stored, repeated, fromOtherInstance, otherTenant;
using (LlmCallContext.Begin(tenant: "acme"))
{
    stored = await firstFaq.AnswerAsync("reset my password").WaitAsync(limit);
    repeated = await firstFaq.AnswerAsync("reset my password").WaitAsync(limit);
    fromOtherInstance = await secondFaq.AnswerAsync("reset my password").WaitAsync(limit);
}

using (LlmCallContext.Begin(tenant: "globex"))
{
    otherTenant = await secondFaq.AnswerAsync("reset my password").WaitAsync(limit);
}

checks.Expect(
    firstFaq.Executions == 1 && ReferenceEquals(stored, repeated) && secondFaq.Executions == 1 && fromOtherInstance == stored && otherTenant.Tenant == "globex",
    $"cache: {firstFaq.Executions} execution, repeat from memory, other instance from the distributed cache (\"{fromOtherInstance.Text}\"), other tenant {secondFaq.Executions} execution of its own");

// Nothing outlives its execution.
checks.Expect(runtime.InFlightCount == 0, $"in flight after the run: {runtime.InFlightCount}");

return checks.Finish();

// A native AOT or trimmed app registers HybridCache itself (AddLlmGuard adds one only where reflection-based JSON is
// on) with LlmGuard's serializer over the source-generated context.
static ServiceProvider CacheServices(IDistributedCache distributed)
{
    var services = new ServiceCollection();
    services.AddSingleton(distributed);
    services.AddHybridCache().AddSerializerFactory(new LlmGuardCacheSerializerFactory(FaqJsonContext.Default));
    return services.BuildServiceProvider();
}

/// <summary>Prints one line per check and decides the exit code.</summary>
internal sealed class Checks
{
    private int _failed;

    public void Expect(bool holds, string line)
    {
        if (!holds)
        {
            _failed++;
        }

        Console.WriteLine(holds ? line : "FAILED " + line);
    }

    public int Finish()
    {
        Console.WriteLine(_failed == 0 ? "all checks passed" : $"{_failed} check(s) failed");
        return _failed == 0 ? 0 : 1;
    }
}
