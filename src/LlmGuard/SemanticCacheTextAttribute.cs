using System;

namespace LlmGuard;

/// <summary>
/// Marks the <see cref="string"/> parameter of a cached <see cref="GuardedAttribute">[Guarded]</see> method whose text
/// the semantic cache embeds and compares: with the scene's <c>SemanticCache</c> turned on, a call that finds no exact
/// answer may be answered with one stored for a similar text, among the calls whose every other key part is equal.
/// </summary>
/// <remarks>
/// One parameter per method, of type <see cref="string"/>, in the key, on a method with
/// <see cref="GuardedAttribute.CacheSeconds"/> above 0 and singleflight on; anything else is error LLMG026. The
/// attribute only makes the semantic cache possible: the scene turns it on in configuration
/// (<c>LlmGuard:Scenes:&lt;scene&gt;:SemanticCache</c>), and the runtime needs an embedding generator.
/// </remarks>
[AttributeUsage(AttributeTargets.Parameter, AllowMultiple = false, Inherited = false)]
public sealed class SemanticCacheTextAttribute : Attribute
{
}
