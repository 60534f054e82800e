using System.Threading;

namespace LlmGuard.Streaming;

/// <summary>
/// The upstreams of one method that are running: listed or not (unshared, or closed after dropping an item), each runs
/// until its end, and the runtime counts it in flight until then.
/// </summary>
internal sealed class StreamPumps
{
    private int _running;

    /// <summary>Gets how many upstreams have started and not yet ended.</summary>
    public int Running => Volatile.Read(ref _running);

    public void Started() => Interlocked.Increment(ref _running);

    public void Ended() => Interlocked.Decrement(ref _running);
}
