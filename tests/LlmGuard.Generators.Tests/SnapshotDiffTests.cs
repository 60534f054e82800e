using LlmGuard.Generators.Tests.Infrastructure;

namespace LlmGuard.Generators.Tests;

/// <summary>The diff a failing snapshot prints.</summary>
public sealed class SnapshotDiffTests
{
    [Fact]
    public void Diff_shows_each_differing_line_with_its_number()
    {
        string diff = Snapshot.Diff("a\nb\nc\n", "a\nB\nc\n");

        Assert.Contains("line 2:\n  - b\n  + B\n", diff.ReplaceLineEndings("\n"), System.StringComparison.Ordinal);
        Assert.DoesNotContain("line 1:", diff, System.StringComparison.Ordinal);
        Assert.DoesNotContain("line 3:", diff, System.StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_marks_lines_past_the_end_of_the_shorter_text()
    {
        string diff = Snapshot.Diff("a", "a\nextra").ReplaceLineEndings("\n");

        Assert.Contains("verified: 1 lines, received: 2 lines", diff, System.StringComparison.Ordinal);
        Assert.Contains("line 2:\n  - <end of file>\n  + extra\n", diff, System.StringComparison.Ordinal);
    }

    [Fact]
    public void Diff_ignores_carriage_returns()
    {
        Assert.Equal("verified: 3 lines, received: 3 lines", Snapshot.Diff("a\r\nb\r\n", "a\nb\n").TrimEnd());
    }
}
