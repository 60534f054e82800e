using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace LlmGuard.Streaming;

/// <summary>
/// One attempt's enumeration of the upstream, with a deadline for each item on the runtime's clock: when the
/// deadline passes the attempt's token is cancelled, and the cancellation it causes surfaces as a <see cref="TimeoutException"/>.
/// </summary>
/// <typeparam name="T">The items of the stream.</typeparam>
internal sealed class UpstreamReader<T> : IAsyncDisposable
{
    // _deadline while no deadline runs: the wait has none, or the upstream ended.
    private const long NotWaiting = long.MaxValue;

    private readonly CancellationTokenSource _attempt;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _idleTimeout;
    private readonly double _timestampsPerTick;
    private readonly ITimer _timer;
    private IAsyncEnumerator<T>? _enumerator;
    private volatile bool _timedOut;

    // The timestamp by which the awaited item must come. The timer is armed once and, when it fires early, re-armed for
    // what is left: moving the deadline is a write, where re-arming the timer for every item takes the timer queue's lock.
    private long _deadline = NotWaiting;

    // 1 while the timer is due to fire; whoever sets it from 0 arms the timer.
    private int _armed;

    // The deadline in force, for the timeout's message.
    private TimeSpan _waitTimeout;

    // The wait the timer was last armed for by the pump (first item, then idle); only the pump reads and writes it.
    private TimeSpan _armedFor;

    private UpstreamReader(TimeProvider timeProvider, TimeSpan idleTimeout, CancellationToken upstream)
    {
        _attempt = CancellationTokenSource.CreateLinkedTokenSource(upstream);
        _clock = timeProvider;
        _idleTimeout = idleTimeout;
        _timestampsPerTick = (double)timeProvider.TimestampFrequency / TimeSpan.TicksPerSecond;
        _timer = timeProvider.CreateTimer(static state => ((UpstreamReader<T>)state!).OnDeadline(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Gets whether the attempt produced a first item; when not, the upstream ended empty.</summary>
    public bool HasFirst { get; private set; }

    public T Current => _enumerator!.Current;

    /// <summary>
    /// Starts one attempt and waits for its first item for at most <paramref name="firstItemTimeout"/>, then for each
    /// next one for at most <paramref name="idleTimeout"/>; <see cref="TimeSpan.Zero"/> waits without a deadline.
    /// </summary>
    public static async ValueTask<UpstreamReader<T>> OpenAsync(
        Func<CancellationToken, IAsyncEnumerable<T>> open,
        TimeSpan firstItemTimeout,
        TimeSpan idleTimeout,
        TimeProvider timeProvider,
        CancellationToken upstream)
    {
        var reader = new UpstreamReader<T>(timeProvider, idleTimeout, upstream);
        try
        {
            CancellationToken token = reader._attempt.Token;
            reader._enumerator = open(token).GetAsyncEnumerator(token);
            reader.StartDeadline(firstItemTimeout);
            reader.HasFirst = await reader.MoveNextAsync(upstream).ConfigureAwait(false);
            return reader;
        }
        catch
        {
            await reader.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Waits for the next item, within the deadline that started when the last one came.</summary>
    public async ValueTask<bool> MoveNextAsync(CancellationToken upstream)
    {
        try
        {
            bool more = await _enumerator!.MoveNextAsync().ConfigureAwait(false);

            // The wait for the next item starts with this one, not when the pump asks for it: a clock that moves while
            // the item is handed to the consumers counts against the next item, as it would with the pump waiting.
            StartDeadline(more ? _idleTimeout : TimeSpan.Zero);
            return more;
        }
        catch (OperationCanceledException cancelled) when (_timedOut && !upstream.IsCancellationRequested)
        {
            // A timeout is transient to the failure rules, so a first item that never came is retried.
            throw StreamDeadline.Passed(_waitTimeout, cancelled);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _timer.Dispose();
        try
        {
            if (_enumerator is not null)
            {
                await _enumerator.DisposeAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _attempt.Dispose();
        }
    }

    private void StartDeadline(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            Volatile.Write(ref _deadline, NotWaiting);
            return;
        }

        _waitTimeout = timeout;

        // A full fence (Interlocked) between the deadline and reading _armed, pairing with the one in OnDeadline between
        // clearing _armed and reading the deadline: either this sees the timer still armed and its callback sees this
        // deadline, or this arms the timer itself.
        Interlocked.Exchange(ref _deadline, _clock.GetTimestamp() + (long)(timeout.Ticks * _timestampsPerTick));
        if (timeout != _armedFor)
        {
            // The first wait of the attempt, or the switch from the first item's wait to the idle one: a timer still
            // armed for a longer first-item deadline would fire after a shorter idle deadline passed, so it is moved
            // once here; every later item keeps the same wait and only moves the deadline.
            _armedFor = timeout;
            Volatile.Write(ref _armed, 1);
            _timer.Change(timeout, Timeout.InfiniteTimeSpan);
        }
        else if (Volatile.Read(ref _armed) == 0 && Interlocked.CompareExchange(ref _armed, 1, 0) == 0)
        {
            _timer.Change(timeout, Timeout.InfiniteTimeSpan);
        }
    }

    private void OnDeadline()
    {
        while (true)
        {
            long deadline = Volatile.Read(ref _deadline);
            if (deadline == NotWaiting)
            {
                // Disarmed, then the deadline read again (see StartDeadline): a deadline set meanwhile that found the
                // timer armed is this callback's to time.
                Interlocked.Exchange(ref _armed, 0);
                if (Volatile.Read(ref _deadline) == NotWaiting || Interlocked.CompareExchange(ref _armed, 1, 0) != 0)
                {
                    return;
                }

                continue;
            }

            long left = deadline - _clock.GetTimestamp();
            if (left <= 0)
            {
                break;
            }

            // An item came and moved the deadline: the timer waits out the rest, rounded up so it never fires before
            // the deadline again.
            try
            {
                _timer.Change(TimeSpan.FromTicks(Math.Max(1, (long)Math.Ceiling(left / _timestampsPerTick))), Timeout.InfiniteTimeSpan);
            }
            catch (ObjectDisposedException)
            {
                // The attempt ended while the deadline fired: nothing is left to time.
            }

            return;
        }

        _timedOut = true;
        try
        {
            _attempt.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The attempt ended while the deadline fired: nothing is left to stop.
        }
    }
}
