using System.Threading.Tasks;
using LlmGuard.Tests.Fakes;
using LlmGuard.Tests.Guarded.Shapes;

namespace LlmGuard.Tests;

/// <summary>Result shapes: ValueTask&lt;T&gt;, Task, ValueTask, value types and nullable results.</summary>
public sealed partial class ShapeTests
{
    [Fact]
    public async Task A_ValueTask_of_T_method_shares_one_execution_and_its_result()
    {
        var shapes = new ResultShapes(_runtime, _model);

        ValueTask<string> first = shapes.DescribeAsync("t-1");
        ValueTask<string> second = shapes.DescribeAsync("t-1");
        ModelCall call = await _model.NextCallAsync();
        call.Succeed("a broken printer");

        Assert.Equal("describe|t-1", call.Prompt);
        Assert.Equal("a broken printer", await first.AsTask().Within());
        Assert.Equal("a broken printer", await second.AsTask().Within());
        Assert.Equal(1, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task A_Task_method_completes_every_caller_when_its_one_execution_completes()
    {
        var shapes = new ResultShapes(_runtime, _model);

        Task first = shapes.ArchiveAsync("t-1");
        Task second = shapes.ArchiveAsync("t-1");
        ModelCall call = await _model.NextCallAsync();
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);
        call.Succeed("archived");

        await Task.WhenAll(first, second).Within();
        Assert.Equal("archive|t-1", call.Prompt);
        Assert.Equal(1, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task A_ValueTask_method_completes_every_caller_when_its_one_execution_completes()
    {
        var shapes = new ResultShapes(_runtime, _model);

        Task first = shapes.AcknowledgeAsync("t-1").AsTask();
        Task second = shapes.AcknowledgeAsync("t-1").AsTask();
        Task other = shapes.AcknowledgeAsync("t-2").AsTask();
        ModelCall a = await _model.NextCallAsync();
        ModelCall b = await _model.NextCallAsync();
        Assert.False(first.IsCompleted);
        a.Succeed("ok");
        b.Succeed("ok");

        await Task.WhenAll(first, second, other).Within();
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task A_value_type_result_reaches_every_caller_that_shared_the_execution()
    {
        var shapes = new ResultShapes(_runtime, _model);

        Task<int> first = shapes.CountAsync("billing");
        Task<int> second = shapes.CountAsync("billing");
        (await _model.NextCallAsync()).Succeed("42");

        Assert.Equal(42, await first.Within());
        Assert.Equal(42, await second.Within());
        Assert.Equal(1, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task A_nullable_reference_result_passes_null_and_values_to_every_caller()
    {
        var shapes = new ResultShapes(_runtime, _model);

        Task<string?> missing = shapes.FindTitleAsync("t-1");
        Task<string?> sameMissing = shapes.FindTitleAsync("t-1");
        Task<string?> found = shapes.FindTitleAsync("t-2");
        await _model.AnswerTwoAsync("title|t-1", "none", "Printer on fire");

        Assert.Null(await missing.Within());
        Assert.Null(await sameMissing.Within());
        Assert.Equal("Printer on fire", await found.Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }

    [Fact]
    public async Task A_nullable_value_result_passes_null_and_values_to_every_caller()
    {
        var shapes = new ResultShapes(_runtime, _model);

        Task<int?> unknown = shapes.FindPriorityAsync("t-1");
        Task<int?> sameUnknown = shapes.FindPriorityAsync("t-1");
        Task<int?> known = shapes.FindPriorityAsync("t-2");
        await _model.AnswerTwoAsync("priority|t-1", "unknown", "3");

        Assert.Null(await unknown.Within());
        Assert.Null(await sameUnknown.Within());
        Assert.Equal(3, await known.Within());
        Assert.Equal(2, _model.Calls);
        Assert.Equal(0, _runtime.InFlightCount);
    }
}
