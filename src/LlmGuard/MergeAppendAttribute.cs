using System;

namespace LlmGuard;

/// <summary>
/// Marks a string or collection parameter of a guarded method with a merge window that receives the values of
/// every merged call in arrival order, instead of only the latest call's value. Strings are joined with
/// <see cref="Separator"/>; collections are concatenated. The parameter is never part of the key.
/// </summary>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class MergeAppendAttribute : Attribute
{
    /// <summary>Gets or sets the text placed between merged string values. Defaults to a line feed.</summary>
    public string Separator { get; set; } = "\n";
}
