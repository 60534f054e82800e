using System;
using System.Threading.Tasks;

namespace LlmGuard.Extensions.AI.Tests;

internal static class TaskExtensions
{
    /// <summary>Waits at most <paramref name="seconds"/> of real time, so a broken test fails instead of hanging.</summary>
    public static Task<T> Within<T>(this Task<T> task, int seconds = 10) => task.WaitAsync(TimeSpan.FromSeconds(seconds));
}
