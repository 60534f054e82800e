using System;
using System.Linq;
using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded.Shapes;
using Microsoft.Extensions.Time.Testing;

namespace LlmGuard.Tests;

/// <summary>
/// Every declaration shape the contract allows, compiled by the real generator and called for real. This part:
/// static methods, records and structs, nested and generic types. The others are in ShapeTests.*.cs.
/// </summary>
public sealed partial class ShapeTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedModel _model = new();
    private readonly GuardRuntime _runtime;

    public ShapeTests()
    {
        _runtime = new GuardRuntime(_time);
    }

    public void Dispose() => Assert.Equal(0, _runtime.InFlightCount);

    [Fact]
    public async Task Static_guarded_methods_run_on_the_types_static_runtime_member()
    {
        StaticGlossary.Runtime = _runtime;
        StaticGlossary.Model = _model;

        Task<string> first = StaticGlossary.DefineAsync("SLA");
        Task<string> second = StaticGlossary.DefineAsync("SLA");
        Task<string> other = StaticGlossary.DefineAsync("RMA");
        ModelCall a = await _model.NextCallAsync();
        ModelCall b = await _model.NextCallAsync();
        Assert.Equal(2, _runtime.InFlightCount);
        (a.Prompt == "define|SLA" ? a : b).Succeed("service level agreement");
        (a.Prompt == "define|SLA" ? b : a).Succeed("return merchandise authorization");

        Assert.Equal("service level agreement", await first.Within());
        Assert.Equal("service level agreement", await second.Within());
        Assert.Equal("return merchandise authorization", await other.Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task Static_guarded_methods_without_a_runtime_member_share_executions_on_the_default_runtime()
    {
        DefaultRuntimeGlossary.Model = _model;
        string term = "term-" + Guid.NewGuid().ToString("N");

        Task<string> first = DefaultRuntimeGlossary.DefineAsync(term);
        Task<string> second = DefaultRuntimeGlossary.DefineAsync(term);
        ModelCall call = await _model.NextCallAsync();
        Assert.True(GuardRuntime.Default.InFlightCount >= 1);
        Assert.Equal(0, _runtime.InFlightCount);
        call.Succeed("defined");

        Assert.Equal("defined", await first.Within());
        Assert.Equal("defined", await second.Within());
        Assert.Equal("define|" + term, call.Prompt);
        Assert.Equal(1, _model.Calls);
        Assert.Equal(0, GuardRuntime.Default.InFlightCount);
    }

    [Fact]
    public async Task Records_on_one_runtime_share_executions_whatever_their_other_members()
    {
        var assistant = new RecordAssistant(_runtime, _model, "friendly");
        RecordAssistant formal = assistant with { Persona = "formal" };

        Task<string> first = assistant.AskAsync("refund?");
        Task<string> second = formal.AskAsync("refund?");
        ModelCall call = await _model.NextCallAsync();
        call.Succeed("Refunds take 5 days.");

        Assert.Equal("friendly|refund?", call.Prompt);
        Assert.Equal("Refunds take 5 days.", await first.Within());
        Assert.Equal("Refunds take 5 days.", await second.Within());
        Assert.Equal(1, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task Records_on_different_runtimes_never_share()
    {
        var otherRuntime = new GuardRuntime(_time);
        var assistant = new RecordAssistant(_runtime, _model, "friendly");
        RecordAssistant elsewhere = assistant with { Runtime = otherRuntime };

        Task<string> first = assistant.AskAsync("refund?");
        Task<string> second = elsewhere.AskAsync("refund?");
        (await _model.NextCallAsync()).Succeed("one");
        (await _model.NextCallAsync()).Succeed("two");

        Assert.NotEqual(await first.Within(), await second.Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, otherRuntime.InFlightCount);
    }

    [Fact]
    public async Task Copies_of_a_readonly_record_struct_share_executions_and_an_int_result()
    {
        var quota = new TenantQuota(_runtime, _model, "acme");
        TenantQuota copy = quota;

        Task<int> open = quota.CountTicketsAsync("open");
        Task<int> sameOpen = copy.CountTicketsAsync("open");
        Task<int> closed = copy.CountTicketsAsync("closed");
        await _model.AnswerTwoAsync("acme|open", "7", "12");

        Assert.Equal(7, await open.Within());
        Assert.Equal(7, await sameOpen.Within());
        Assert.Equal(12, await closed.Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task A_readonly_struct_runs_on_its_captured_primary_constructor_runtime()
    {
        var router = new RegionRouter(_runtime, _model, "eu");

        ValueTask<string> first = router.RouteAsync("t-1");
        ValueTask<string> second = router.RouteAsync("t-1");
        ModelCall call = await _model.NextCallAsync();
        Assert.Equal(1, _runtime.InFlightCount);
        call.Succeed("queue-7");

        Assert.Equal("eu|t-1", call.Prompt);
        Assert.Equal("queue-7", await first.AsTask().Within());
        Assert.Equal("queue-7", await second.AsTask().Within());
        Assert.Equal(1, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task A_type_nested_two_levels_deep_shares_executions_per_key()
    {
        var desk = new Support.Escalations.Desk(_runtime, _model);

        Task<string> first = desk.EscalateAsync("t-1");
        Task<string> second = desk.EscalateAsync("t-1");
        Task<string> other = desk.EscalateAsync("t-2");
        await _model.AnswerTwoAsync("escalate|t-1", "tier 2", "tier 3");

        Assert.Equal("tier 2", await first.Within());
        Assert.Equal("tier 2", await second.Within());
        Assert.Equal("tier 3", await other.Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task The_type_argument_of_a_generic_containing_type_separates_its_state()
    {
        var orders = new Repository<Order>(_runtime, _model, id => new Order(id));
        var sameOrders = new Repository<Order>(_runtime, _model, id => new Order(id));
        var invoices = new Repository<Invoice>(_runtime, _model, id => new Invoice(id));

        // All three render the same key, "Repository.LoadAsync:42".
        Task<Order> order = orders.LoadAsync("42");
        Task<Order> sameOrder = sameOrders.LoadAsync("42");
        Task<Invoice> invoice = invoices.LoadAsync("42");
        await _model.AnswerTwoAsync("Order|42", "order-42", "invoice-42");

        Assert.Equal(new Order("order-42"), await order.Within());
        Assert.Same(await order.Within(), await sameOrder.Within());
        Assert.Equal(new Invoice("invoice-42"), await invoice.Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task A_generic_method_of_a_generic_type_has_state_per_pair_of_type_arguments()
    {
        var orders = new Repository<Order>(_runtime, _model, id => new Order(id));
        var sameOrders = new Repository<Order>(_runtime, _model, id => new Order(id));
        var invoices = new Repository<Invoice>(_runtime, _model, id => new Invoice(id));

        Task<int> orderCount = orders.MeasureAsync<int>("42");
        Task<int> sameOrderCount = sameOrders.MeasureAsync<int>("42");
        Task<decimal> orderTotal = orders.MeasureAsync<decimal>("42");
        Task<int> invoiceCount = invoices.MeasureAsync<int>("42");
        var calls = new[] { await _model.NextCallAsync(), await _model.NextCallAsync(), await _model.NextCallAsync() };
        foreach (ModelCall call in calls)
        {
            call.Succeed(call.Prompt switch
            {
                "Order|Int32|42" => "3",
                "Order|Decimal|42" => "99.95",
                _ => "5",
            });
        }

        Assert.Equal(3, await orderCount.Within());
        Assert.Equal(3, await sameOrderCount.Within());
        Assert.Equal(99.95m, await orderTotal.Within());
        Assert.Equal(5, await invoiceCount.Within());
        Assert.Equal(new[] { "Invoice|Int32|42", "Order|Decimal|42", "Order|Int32|42" }, calls.Select(call => call.Prompt).Order(StringComparer.Ordinal));
        Assert.Equal(3, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }
}
