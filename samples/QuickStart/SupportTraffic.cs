using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;

namespace QuickStart;

/// <summary>One message a user sent in a support chat.</summary>
public sealed record SupportMessage(string SessionId, int MessageId, string Text);

/// <summary>
/// Seeded support-chat traffic: per session, turns of one to three messages typed 50-150 ms apart, each message
/// triggered one to four times within 40 ms. Replaying it fires every trigger at its moment.
/// </summary>
public sealed class SupportTraffic
{
    private readonly List<(TimeSpan At, SupportMessage Message)>[] _sessions;

    private SupportTraffic(List<(TimeSpan At, SupportMessage Message)>[] sessions)
    {
        _sessions = sessions;
    }

    public int Triggers => _sessions.Sum(session => session.Count);

    public static SupportTraffic Generate(int seed, int sessions, int turnsPerSession)
    {
        var random = new Random(seed);
        string[] phrases = ["I want to complain", "about yesterday's order", "order no. 123", "it arrived broken", "can I get a refund?", "or a replacement"];
        var all = new List<(TimeSpan, SupportMessage)>[sessions];
        for (int s = 0; s < sessions; s++)
        {
            var triggers = new List<(TimeSpan, SupportMessage)>();
            TimeSpan clock = TimeSpan.FromMilliseconds(random.Next(0, 200));
            int messageId = 0;
            for (int turn = 0; turn < turnsPerSession; turn++)
            {
                int messages = random.Next(1, 4);
                for (int m = 0; m < messages; m++)
                {
                    var message = new SupportMessage($"session-{s + 1}", ++messageId, phrases[random.Next(phrases.Length)]);
                    int duplicates = random.Next(1, 5);
                    for (int d = 0; d < duplicates; d++)
                    {
                        triggers.Add((clock + TimeSpan.FromMilliseconds(random.Next(0, 40)), message));
                    }

                    clock += TimeSpan.FromMilliseconds(random.Next(50, 150));
                }

                // The user reads the answer before the next turn.
                clock += TimeSpan.FromMilliseconds(random.Next(1500, 2500));
            }

            all[s] = triggers.OrderBy(trigger => trigger.Item1).ToList();
        }

        return new SupportTraffic(all);
    }

    /// <summary>Fires every trigger at its moment, sessions in parallel, and returns the wall time it took.</summary>
    public async Task<TimeSpan> ReplayAsync(Func<SupportMessage, Task<string>> trigger)
    {
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(_sessions.Select(async session =>
        {
            var calls = new List<Task<string>>();
            foreach ((TimeSpan at, SupportMessage message) in session)
            {
                TimeSpan wait = at - stopwatch.Elapsed;
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait);
                }

                calls.Add(trigger(message));
            }

            await Task.WhenAll(calls);
        }));
        return stopwatch.Elapsed;
    }
}
