using System;
using System.Threading;
using System.Threading.Tasks;
using LlmGuard;

namespace QuickStart;

public static class Program
{
    public static async Task Main()
    {
        var a = new Assistant();
        Console.WriteLine(await a.AskAsync("u1", "hello", CancellationToken.None));
    }
}

public sealed record Req(string UserId, int SessionId, DateTime At);

public partial class Assistant
{
    [Guarded(Scene = "support", Key = "{req.UserId}:{req.SessionId}/{req.At}", Fallback = nameof(Fallback))]
    public partial Task<string> ExtractAsync(Req req, CancellationToken cancellationToken);

    private Task<string> ExtractCoreAsync(Req req, CancellationToken cancellationToken) => Task.FromResult(req.UserId);

    private static string Fallback(Req req, Exception exception) => "sorry";

    [Guarded]
    public partial Task<string> AskAsync(string userId, string question, CancellationToken cancellationToken);

    private async Task<string> AskCoreAsync(string userId, string question, CancellationToken cancellationToken)
    {
        await Task.Delay(10, cancellationToken);
        return $"{userId}: {question}";
    }

    [Guarded(TimeoutMs = 0)]
    internal static partial ValueTask NotifyAsync(int? ticket);

    private static ValueTask NotifyCoreAsync(int? ticket) => ValueTask.CompletedTask;
}
