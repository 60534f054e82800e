using System.Collections.Generic;
using LlmGuard.Infrastructure;

namespace LlmGuard.Tests.Infrastructure;

public sealed class MergedValuesTests
{
    [Fact]
    public void Strings_are_joined_in_arrival_order_and_null_contributes_nothing()
    {
        Assert.Equal("a\nb", MergedValues.Append("a", "b", "\n"));
        Assert.Equal("b", MergedValues.Append(null, "b", "\n"));
        Assert.Equal("a", MergedValues.Append("a", null, "\n"));
        Assert.Equal("a | ", MergedValues.Append("a", string.Empty, " | "));
    }

    [Fact]
    public void Arrays_and_sequences_are_concatenated_into_new_collections()
    {
        int[] earlier = { 1, 2 };
        int[]? merged = MergedValues.Append(earlier, new[] { 3 });
        List<string>? list = MergedValues.AppendToList(new[] { "a" }, new List<string> { "b", "c" });

        Assert.Equal(new[] { 1, 2, 3 }, merged);
        Assert.Equal(new[] { 1, 2 }, earlier);
        Assert.Equal(new[] { "a", "b", "c" }, list);
        Assert.Null(MergedValues.AppendToList<string>(null, null));
    }
}
