using System;
using System.Diagnostics;
using System.Threading.Tasks;

namespace LlmGuard.Tests.Fakes;

public static class Eventually
{
    /// <summary>Yields until <paramref name="condition"/> holds, for work that ends on another thread; fails after 10 s.</summary>
    public static async Task Until(Func<bool> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "Timed out waiting until " + what);
            await Task.Yield();
        }
    }
}
