using System;
using System.Collections.Generic;

namespace LlmGuard.Protection;

/// <summary>
/// A scene's rate limit: at most a number of executions start per fixed window, measured on the runtime's
/// <see cref="TimeProvider"/> so that tests and simulations move its windows with their clock. System.Threading.RateLimiting's
/// FixedWindowRateLimiter checks elapsed time on the system clock even when replenished by hand, so it cannot.
/// </summary>
/// <remarks>
/// With tenants, every tenant's count starts again when the scene's window does: the counts of one window are all that
/// is ever kept, so tenants seen once cost nothing after their window.
/// </remarks>
internal sealed class FixedWindowRate
{
    private readonly object _gate = new();
    private readonly int _limit;
    private readonly TimeSpan _window;
    private readonly TimeProvider _clock;
    private readonly Dictionary<string, int>? _takenByTenant;
    private long _windowStart;
    private int _taken;

    public FixedWindowRate(int limit, TimeSpan window, TimeProvider clock, bool perTenant)
    {
        _limit = limit;
        _window = window;
        _clock = clock;
        _takenByTenant = perTenant ? new Dictionary<string, int>(StringComparer.Ordinal) : null;
        _windowStart = clock.GetTimestamp();
    }

    /// <summary>Takes a permit of the current window for <paramref name="tenant"/> (the whole scene when <see langword="null"/>).</summary>
    /// <param name="tenant">The tenant, when the limit applies per tenant; otherwise <see langword="null"/>.</param>
    /// <returns>Whether a permit was left; an execution without one is refused, never made to wait.</returns>
    public bool TryTake(string? tenant)
    {
        lock (_gate)
        {
            long now = _clock.GetTimestamp();
            if (_clock.GetElapsedTime(_windowStart, now) >= _window)
            {
                _windowStart = now;
                _taken = 0;
                _takenByTenant?.Clear();
            }

            int taken = 0;
            if (_takenByTenant is null || tenant is null)
            {
                taken = _taken;
            }
            else
            {
                _takenByTenant.TryGetValue(tenant, out taken);
            }

            if (taken >= _limit)
            {
                return false;
            }

            if (_takenByTenant is null || tenant is null)
            {
                _taken = taken + 1;
            }
            else
            {
                _takenByTenant[tenant] = taken + 1;
            }

            return true;
        }
    }
}
