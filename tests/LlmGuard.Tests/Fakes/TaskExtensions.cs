using System;
using System.Threading.Tasks;

namespace LlmGuard.Tests.Fakes;

public static class TaskExtensions
{
    /// <summary>Bounds a wait in real time, so a regression fails the test instead of hanging the run.</summary>
    public static Task<T> Within<T>(this Task<T> task, int seconds = 10) => task.WaitAsync(TimeSpan.FromSeconds(seconds));

    public static Task Within(this Task task, int seconds = 10) => task.WaitAsync(TimeSpan.FromSeconds(seconds));
}
