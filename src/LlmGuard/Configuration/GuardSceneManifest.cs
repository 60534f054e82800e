using System;
using System.Collections.Generic;
using System.Collections.Immutable;

namespace LlmGuard.Configuration;

/// <summary>
/// The guarded methods of every loaded assembly that the LlmGuard generator compiled. Each such assembly registers its
/// methods from a module initializer, so they are known once code of the assembly has run; configuration of a scene
/// no registered method has is rejected at start-up.
/// </summary>
public static class GuardSceneManifest
{
    private static ImmutableArray<GuardScene> s_scenes = ImmutableArray<GuardScene>.Empty;

    /// <summary>Gets every registered guarded method, in the order they were registered.</summary>
    public static IReadOnlyList<GuardScene> Scenes => s_scenes;

    /// <summary>Adds the guarded methods of one assembly; generated code calls it, once per assembly.</summary>
    /// <param name="scenes">The assembly's guarded methods.</param>
    public static void Register(params GuardScene[] scenes)
    {
        ArgumentNullException.ThrowIfNull(scenes);
        foreach (GuardScene scene in scenes)
        {
            ArgumentNullException.ThrowIfNull(scene, nameof(scenes));
        }

        ImmutableInterlocked.Update(ref s_scenes, static (current, added) => current.AddRange(added), scenes);
    }

    /// <summary>Gets whether a registered guarded method has <paramref name="scene"/>.</summary>
    /// <param name="scene">The scene name, compared ordinally.</param>
    /// <returns><see langword="true"/> when some registered method has that scene.</returns>
    public static bool Contains(string scene)
    {
        foreach (GuardScene registered in s_scenes)
        {
            if (string.Equals(registered.Scene, scene, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
