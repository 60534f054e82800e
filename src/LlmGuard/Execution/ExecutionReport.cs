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
    /// Gets whether the semantic cache answered the execution's callers with a stored answer, so no core ran; such a
    /// report is read by the callers only, never recorded as an execution.
    /// </summary>
    public bool AnsweredFromCache { get; private init; }

    /// <summary>Gets the tokens the stored answer's execution used, which each caller answered from the cache saved.</summary>
    public long SavedTokens { get; private init; }

    /// <summary>Creates the report of an execution a stored answer (exact or similar) answered without the model.</summary>
    public static ExecutionReport FromCache(string scene, LlmCallContext? context, long savedTokens, ActivityContext origin) =>
        new(scene, context) { AnsweredFromCache = true, SavedTokens = savedTokens, ActivityContext = origin };

    /// <summary>
    /// Gets or sets the context of the execution's activity, which callers answered by this execution link to;
    /// default when nothing listened to traces when it started.
    /// </summary>
    public ActivityContext ActivityContext { get; set; }

    /// <summary>
    /// Adds the tokens of one model call, reported by the core (<see cref="LlmUsage.Report"/>) or read from the result.
    /// </summary>
    /// <remarks>
    /// Locked because an abandoned attempt may still report while a retry runs; whatever it reports after the
    /// execution was accounted for is not counted.
    /// </remarks>
    public void AddUsage(long? inputTokens, long? outputTokens, string? model)
    {
        lock (this)
        {
            if (inputTokens is { } input)
            {
                InputTokens = (InputTokens ?? 0) + input;
            }

            if (outputTokens is { } output)
            {
                OutputTokens = (OutputTokens ?? 0) + output;
            }

            if (model is not null)
            {
                Model = model;
            }
        }
    }

    /// <summary>Reads the tokens and model under the lock that <see cref="AddUsage"/> takes.</summary>
    public (long Input, long Output, string? Model) ReadUsage()
    {
        lock (this)
        {
            return (InputTokens ?? 0, OutputTokens ?? 0, Model);
        }
    }
}
