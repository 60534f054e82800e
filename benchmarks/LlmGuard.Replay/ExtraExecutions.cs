using System.Collections.Generic;
using System.Linq;
using LlmGuard.Replay.Traffic;

namespace LlmGuard.Replay;

/// <summary>
/// Why a chat way ran more than one execution for a user turn: each execution after the first of its turn is put in
/// one class, by the revision it answered and the trigger that created that revision.
/// </summary>
/// <param name="TurnsAnswered">Turns with at least one execution: the first execution of each is the floor.</param>
/// <param name="MessageAfterQuiet">A new message of the turn that came longer than the quiet time after the session's previous trigger (a long typing gap), so its window had closed.</param>
/// <param name="MessageAfterCap">A new message that came within the quiet time of the previous trigger, after the window had closed at its cap.</param>
/// <param name="EditAfterWindow">An edit (a new revision) that came after the window of the message it edits had closed.</param>
/// <param name="OlderRevisionAfterWindow">A duplicate of a revision older than one already answered in its turn, after the window that merged it away closed: its own revision was never answered, so no cache entry holds it.</param>
/// <param name="SameRevisionAgain">A revision answered again: a duplicate after its window closed whose earlier answer was not stored (uncached way, or a fallback answer) or not yet stored.</param>
public sealed record ExtraExecutions(
    int TurnsAnswered,
    int MessageAfterQuiet,
    int MessageAfterCap,
    int EditAfterWindow,
    int OlderRevisionAfterWindow,
    int SameRevisionAgain)
{
    /// <summary>No executions to classify: the unguarded way, and the FAQ traffic, which has no turns.</summary>
    public static readonly ExtraExecutions None = new(0, 0, 0, 0, 0, 0);

    public int Total => MessageAfterQuiet + MessageAfterCap + EditAfterWindow + OlderRevisionAfterWindow + SameRevisionAgain;

    /// <param name="trace">The trace the executions answered.</param>
    /// <param name="executed">Every execution that reached the model.</param>
    /// <param name="quietMs">The merge window's quiet time.</param>
    public static ExtraExecutions Classify(ReplayTrace trace, IEnumerable<ExecutedRevision> executed, int quietMs)
    {
        // The submit that created each revision, and how long after the session's previous trigger it came.
        var submits = new Dictionary<(int Session, int Revision), (int Turn, TriggerKind Kind, long Gap)>();
        var lastTrigger = new Dictionary<int, long>();
        foreach (Trigger trigger in trace.Triggers)
        {
            if (trigger.Kind != TriggerKind.Duplicate)
            {
                long gap = lastTrigger.TryGetValue(trigger.Session, out long last) ? trigger.AtTicks - last : long.MaxValue;
                submits[(trigger.Session, trigger.Revision)] = (trigger.Turn, trigger.Kind, gap);
            }

            lastTrigger[trigger.Session] = trigger.AtTicks;
        }

        long quietTicks = quietMs * System.TimeSpan.TicksPerMillisecond;
        int turns = 0, afterQuiet = 0, afterCap = 0, edits = 0, older = 0, again = 0;
        var answered = new Dictionary<(int Session, int Turn), (HashSet<int> Revisions, int Newest)>();
        foreach (ExecutedRevision execution in executed.OrderBy(execution => execution.AtTicks))
        {
            (int turn, TriggerKind kind, long gap) = submits[(execution.Session, execution.Revision)];
            if (!answered.TryGetValue((execution.Session, turn), out var ofTurn))
            {
                answered[(execution.Session, turn)] = ([execution.Revision], execution.Revision);
                turns++;
                continue;
            }

            if (!ofTurn.Revisions.Add(execution.Revision))
            {
                again++;
            }
            else if (execution.Revision < ofTurn.Newest)
            {
                older++;
            }
            else if (kind == TriggerKind.Edit)
            {
                edits++;
            }
            else if (gap > quietTicks)
            {
                afterQuiet++;
            }
            else
            {
                afterCap++;
            }

            if (execution.Revision > ofTurn.Newest)
            {
                answered[(execution.Session, turn)] = (ofTurn.Revisions, execution.Revision);
            }
        }

        return new ExtraExecutions(turns, afterQuiet, afterCap, edits, older, again);
    }
}
