using System;
using System.IO;
using System.Linq;
using System.Reflection;
using LlmGuard.Generators.Diagnostics;
using LlmGuard.Generators.Tests.Infrastructure;
using Microsoft.CodeAnalysis;

namespace LlmGuard.Generators.Tests;

/// <summary>The diagnostics table as a whole, and the constants the generator shares with the runtime.</summary>
public sealed class DiagnosticDescriptorTests
{
    [Fact]
    public void Descriptor_ids_run_from_LLMG001_and_LLMG100_without_gaps()
    {
        string[] ids = DiagnosticDescriptors.All.Select(d => d.Id).OrderBy(id => id, StringComparer.Ordinal).ToArray();

        // The generator's diagnostics count from LLMG001, skipping the package build check's LLMG020; the analyzer's from LLMG100.
        string[] generator = ids.Where(id => string.CompareOrdinal(id, "LLMG100") < 0).ToArray();
        string[] analyzer = ids.Except(generator).ToArray();
        Assert.Equal(Enumerable.Range(1, 99).Where(n => n != 20).Take(generator.Length).Select(n => $"LLMG{n:000}"), generator);
        Assert.Equal(Enumerable.Range(100, analyzer.Length).Select(n => $"LLMG{n:000}"), analyzer);
    }

    [Fact]
    public void Every_descriptor_is_listed_in_the_release_tracking_file_with_its_category_and_severity()
    {
        string[] rows = File.ReadAllLines(Path.Combine(RepositoryPaths.Root, "src", "LlmGuard.Generators", "AnalyzerReleases.Unshipped.md"))
            .Where(line => line.StartsWith("LLMG", StringComparison.Ordinal))
            .Select(line => string.Join("|", line.Split('|').Take(3).Select(cell => cell.Trim())))
            .ToArray();

        Assert.Equal(
            DiagnosticDescriptors.All.OrderBy(d => d.Id, StringComparer.Ordinal).Select(d => $"{d.Id}|{d.Category}|{d.DefaultSeverity}"),
            rows);
    }

    [Fact]
    public void Every_descriptor_has_a_docs_page_and_a_help_link_to_it()
    {
        string docs = Path.Combine(RepositoryPaths.Root, "docs", "diagnostics");
        string[] problems = DiagnosticDescriptors.All
            .OrderBy(d => d.Id, StringComparer.Ordinal)
            .SelectMany(d => new[]
            {
                File.Exists(Path.Combine(docs, d.Id + ".md")) ? null : $"{d.Id}: no page docs/diagnostics/{d.Id}.md",
                d.HelpLinkUri.EndsWith("/" + d.Id + ".md", StringComparison.Ordinal) ? null : $"{d.Id}: help link '{d.HelpLinkUri}' does not end with {d.Id}.md",
            })
            .OfType<string>()
            .ToArray();

        Assert.True(problems.Length == 0, string.Join("\n", problems));
    }

    [Fact]
    public void The_package_build_check_owns_LLMG020_links_its_page_and_no_descriptor_reuses_it()
    {
        // LLMG020 is raised by MSBuild from the package's props, before any analyzer loads; the next generator
        // diagnostic must take LLMG021.
        string props = File.ReadAllText(Path.Combine(RepositoryPaths.Root, "src", "LlmGuard", "buildTransitive", "LlmGuard.props"));

        Assert.DoesNotContain(DiagnosticDescriptors.All, d => d.Id == "LLMG020");
        Assert.Contains("Code=\"LLMG020\"", props, StringComparison.Ordinal);
        Assert.Contains($"HelpLink=\"{DiagnosticDescriptors.HelpLinkBase}LLMG020.md\"", props, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(RepositoryPaths.Root, "docs", "diagnostics", "LLMG020.md")));
    }

    [Fact]
    public void Every_descriptor_is_enabled_in_the_LlmGuard_category_with_a_title_and_message()
    {
        foreach (DiagnosticDescriptor descriptor in DiagnosticDescriptors.All)
        {
            Assert.True(descriptor.IsEnabledByDefault, descriptor.Id);
            Assert.Equal("LlmGuard", descriptor.Category);
            Assert.False(string.IsNullOrWhiteSpace(descriptor.Title.ToString()), descriptor.Id);
            Assert.False(string.IsNullOrWhiteSpace(descriptor.MessageFormat.ToString()), descriptor.Id);
            DiagnosticSeverity expected = descriptor.Id switch
            {
                "LLMG015" => DiagnosticSeverity.Info,
                "LLMG018" or "LLMG021" or "LLMG025" or "LLMG032" or "LLMG100" or "LLMG101" => DiagnosticSeverity.Warning,
                _ => DiagnosticSeverity.Error,
            };
            Assert.Equal(expected, descriptor.DefaultSeverity);
        }
    }

    [Fact]
    public void Generator_defaults_equal_the_attribute_defaults()
    {
        Assert.Equal(GuardedAttribute.DefaultTimeoutMs, GuardDefaults.TimeoutMs);
        Assert.Equal(GuardedAttribute.DefaultMaxRetries, GuardDefaults.MaxRetries);
        Assert.Equal(GuardedAttribute.DefaultRetryDelayMs, GuardDefaults.RetryDelayMs);
        Assert.Equal(GuardedAttribute.DefaultMaxRetryAfterMs, GuardDefaults.MaxRetryAfterMs);
        Assert.Equal(GuardedAttribute.DefaultStreamReplayItems, GuardDefaults.StreamReplayItems);

        var attribute = new GuardedAttribute();
        Assert.Equal(GuardDefaults.TimeoutMs, attribute.TimeoutMs);
        Assert.Equal(GuardDefaults.MaxRetries, attribute.MaxRetries);
        Assert.Equal(GuardDefaults.RetryDelayMs, attribute.RetryDelayMs);
        Assert.Equal(GuardDefaults.MaxRetryAfterMs, attribute.MaxRetryAfterMs);
        Assert.Equal(GuardDefaults.StreamReplayItems, attribute.StreamReplayItems);
        Assert.True(attribute.SingleFlight);
    }

    [Fact]
    public void Generator_limits_equal_the_runtime_limits()
    {
        // GuardLimits is internal to the runtime; its constants are read from metadata.
        Type limits = typeof(GuardedAttribute).Assembly.GetType("LlmGuard.Internal.GuardLimits", throwOnError: true)!;

        Assert.Equal(GuardDefaults.MinTimeoutMs, Constant(limits, "MinTimeoutMs"));
        Assert.Equal(GuardDefaults.MaxMilliseconds, Constant(limits, "MaxMilliseconds"));
        Assert.Equal(GuardDefaults.MaxRetriesLimit, Constant(limits, "MaxRetries"));
        Assert.Equal(GuardDefaults.MaxCacheSeconds, Constant(limits, "MaxCacheSeconds"));
    }

    private static int Constant(Type type, string name) =>
        (int)type.GetField(name, BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic)!.GetRawConstantValue()!;
}
