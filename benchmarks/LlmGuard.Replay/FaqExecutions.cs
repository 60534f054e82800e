using System.Collections.Generic;
using System.Linq;

namespace LlmGuard.Replay;

/// <summary>One execution of the help desk that reached the model: the answer it computed (whose, which question, which content version) and when it started.</summary>
public readonly record struct ExecutedFaqAnswer(string Tenant, string? User, bool Personal, int Question, int ContentVersion, long AtTicks);

/// <summary>
/// Why the FAQ traffic's cached way ran each execution: the first of its answer (the floor of exact sharing), again
/// after the answer's cache entry expired, or again sooner, when the earlier execution stored nothing (a fallback
/// answer is never stored).
/// </summary>
public sealed record FaqExecutions(int FirstOfAnswer, int AfterExpiry, int AfterUnstored)
{
    public static readonly FaqExecutions None = new(0, 0, 0);

    /// <param name="executed">Every execution that reached the model.</param>
    /// <param name="faqTicks">How long an FAQ answer is cached, in ticks.</param>
    /// <param name="personalTicks">How long a personal answer is cached, in ticks.</param>
    public static FaqExecutions Classify(IEnumerable<ExecutedFaqAnswer> executed, long faqTicks, long personalTicks)
    {
        int first = 0, afterExpiry = 0, afterUnstored = 0;
        var previous = new Dictionary<(string Tenant, string? User, bool Personal, int Question, int ContentVersion), long>();
        foreach (ExecutedFaqAnswer execution in executed.OrderBy(execution => execution.AtTicks))
        {
            var answer = (execution.Tenant, execution.User, execution.Personal, execution.Question, execution.ContentVersion);
            if (!previous.TryGetValue(answer, out long before))
            {
                first++;
            }
            else if (execution.AtTicks - before >= (execution.Personal ? personalTicks : faqTicks))
            {
                afterExpiry++;
            }
            else
            {
                afterUnstored++;
            }

            previous[answer] = execution.AtTicks;
        }

        return new FaqExecutions(first, afterExpiry, afterUnstored);
    }
}
