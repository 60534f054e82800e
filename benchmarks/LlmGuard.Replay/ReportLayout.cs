using System.Collections.Generic;
using System.Linq;
using System.Text;
using Spectre.Console;

namespace LlmGuard.Replay;

/// <summary>The shape both traffics' reports share: a console table, and the Markdown file with its sections.</summary>
internal static class ReportLayout
{
    public static Table Table(string title, IReadOnlyList<string> headers, IEnumerable<string[]> rows)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(title);
        foreach (string header in headers)
        {
            table.AddColumn(new TableColumn(header) { Alignment = header == "Way" ? Justify.Left : Justify.Right });
        }

        foreach (string[] row in rows)
        {
            table.AddRow(row.Select(Markup.Escape).ToArray());
        }

        return table;
    }

    /// <summary>The title, the command line, the table, and the sections every report has.</summary>
    public static StringBuilder Markdown(
        string title,
        string commandLine,
        IReadOnlyList<string> headers,
        IEnumerable<string[]> rows,
        IEnumerable<string> explanation,
        IEnumerable<string> columnNotes,
        string assumptionsTitle,
        IEnumerable<(string Parameter, string Value)> assumptions)
    {
        var markdown = new StringBuilder();
        markdown.AppendLine("# " + title);
        markdown.AppendLine();
        markdown.AppendLine(commandLine);
        markdown.AppendLine();
        markdown.AppendLine("| " + string.Join(" | ", headers) + " |");
        markdown.AppendLine("|" + string.Join("|", headers.Select((_, index) => index == 0 ? "---" : "---:")) + "|");
        foreach (string[] row in rows)
        {
            markdown.AppendLine("| " + string.Join(" | ", row) + " |");
        }

        AppendList(markdown, "What the figures say", explanation);
        AppendList(markdown, "Columns", columnNotes);
        markdown.AppendLine();
        markdown.AppendLine("## " + assumptionsTitle);
        markdown.AppendLine();
        markdown.AppendLine("| Parameter | Value |");
        markdown.AppendLine("|---|---|");
        foreach ((string parameter, string value) in assumptions)
        {
            markdown.AppendLine($"| {parameter} | {value} |");
        }

        return markdown;
    }

    public static void AppendList(StringBuilder markdown, string heading, IEnumerable<string> lines)
    {
        markdown.AppendLine();
        markdown.AppendLine("## " + heading);
        markdown.AppendLine();
        foreach (string line in lines)
        {
            markdown.AppendLine("- " + line);
        }
    }
}
