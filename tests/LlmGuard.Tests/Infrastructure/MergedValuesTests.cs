using System.Collections.Generic;
using LlmGuard.Infrastructure;

namespace LlmGuard.Tests.Infrastructure;

public sealed class MergedValuesTests
{
    private sealed record Call(string? Text, int[]? Ids, IReadOnlyList<string>? Tags);

    [Fact]
    public void Strings_are_joined_in_arrival_order_and_null_contributes_nothing()
    {
        var calls = new[] { new Call("a", null, null), new Call(null, null, null), new Call("b", null, null), new Call(string.Empty, null, null) };

        Assert.Equal("a\nb\n", MergedValues.Join(calls, static call => call.Text, "\n"));
        Assert.Equal("b", MergedValues.Join(new[] { new Call(null, null, null), new Call("b", null, null) }, static call => call.Text, "\n"));
        Assert.Null(MergedValues.Join(new[] { new Call(null, null, null) }, static call => call.Text, "\n"));
    }

    [Fact]
    public void Arrays_and_sequences_are_concatenated_into_new_collections()
    {
        int[] first = { 1, 2 };
        var calls = new[] { new Call(null, first, new[] { "a" }), new Call(null, null, null), new Call(null, new[] { 3 }, new List<string> { "b", "c" }) };

        int[]? merged = MergedValues.Concat(calls, static call => call.Ids);
        List<string>? list = MergedValues.ConcatToList(calls, static call => call.Tags);

        Assert.Equal(new[] { 1, 2, 3 }, merged);
        Assert.NotSame(first, merged);
        Assert.Equal(new[] { 1, 2 }, first);
        Assert.Equal(new[] { "a", "b", "c" }, list);
        Assert.Null(MergedValues.ConcatToList(new[] { new Call(null, null, null) }, static call => call.Tags));
        Assert.Null(MergedValues.Concat(new[] { new Call(null, null, null) }, static call => call.Ids));
    }
}
