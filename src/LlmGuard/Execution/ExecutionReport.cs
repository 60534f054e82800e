using System;
using System.Diagnostics;

namespace LlmGuard.Execution;

/// <summary>What one execution did: filled in while it runs, read by telemetry and usage accounting when it ends.</summary>
internal sealed class ExecutionReport
{
    public ExecutionReport(string scene, LlmCallContext? context)
    {
        Scene = scene;
        Context = context;
    }

    public string Scene { get; }

    /// <summary>Gets the call context of the call whose arguments the execution ran with.</summary>
    public LlmCallContext? Context { get; }

    public string? Model { get; set; }

    public long? InputTokens { get; set; }

    public long? OutputTokens { get; set; }

    public TimeSpan Duration { get; set; }

    /// <summary>Gets or sets the <c>llmguard.result</c> of the execution: success, fallback, error, cancelled or rejected.</summary>
    public string Result { get; set; } = "success";

    /// <summary>Gets or sets how many callers the execution answered.</summary>
    public int Callers { get; set; } = 1;

    public DateTimeOffset CompletedAt { get; set; }

    /// <summary>
    /// Gets or sets the context of the execution's activity, which callers answered by this execution link to;
    /// default when nothing listened to traces when it started.
    /// </summary>
    public ActivityContext ActivityContext { get; set; }
}
