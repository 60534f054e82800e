using System;
using System.Globalization;
using System.IO;

namespace LlmGuard.Replay;

/// <summary>The command line: a handful of options, parsed by hand so the replay needs no extra package.</summary>
public sealed class ReplayArguments
{
    public const string Usage = "usage: LlmGuard.Replay [--traffic chat|faq|both|outage] [--triggers N] [--seed S] [--fault-rate F] [--markdown PATH] [--quiescence-samples K] [--merge-quiet-ms MS] [--merge-max-wait-ms MS]";

    /// <summary>Replay the customer-service chat trace.</summary>
    public bool Chat { get; private set; } = true;

    /// <summary>Replay the FAQ trace.</summary>
    public bool Faq { get; private set; } = true;

    /// <summary>Replay the outage scenario instead of a traffic: the model down for five minutes, without and with a breaker.</summary>
    public bool Outage { get; private set; }

    public int Triggers { get; private set; } = 100_000;

    public int Seed { get; private set; } = 2026;

    public double FaultRate { get; private set; } = 0.05;

    public string MarkdownPath { get; private set; } = Path.Combine(Environment.CurrentDirectory, "replay-results.md");

    /// <summary>
    /// The merge window of the "merge window + cache" way, to see what another window buys; the "merge window" way
    /// keeps the declared one, so the two ways compare.
    /// </summary>
    public MergeWindowSettings CachedWindow { get; private set; } = MergeWindowSettings.Declared;

    /// <summary>Overrides <see cref="VirtualTime.ThreadPoolQuiescence.StableSamples"/>: more samples, slower but safer steps.</summary>
    public int? QuiescenceSamples { get; private set; }

    public static bool TryParse(string[] args, out ReplayArguments arguments, out string error)
    {
        arguments = new ReplayArguments();
        error = "";
        for (int i = 0; i < args.Length; i += 2)
        {
            string option = args[i];
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            if (value is null)
            {
                error = $"'{option}' needs a value";
                return false;
            }

            switch (option)
            {
                case "--traffic" when value is "outage":
                    arguments.Chat = arguments.Faq = false;
                    arguments.Outage = true;
                    break;
                case "--traffic" when value is "chat" or "faq" or "both":
                    arguments.Chat = value != "faq";
                    arguments.Faq = value != "chat";
                    break;
                case "--triggers" when TryInt(value, out int triggers) && triggers > 0:
                    arguments.Triggers = triggers;
                    break;
                case "--seed" when TryInt(value, out int seed):
                    arguments.Seed = seed;
                    break;
                case "--fault-rate" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) && rate is >= 0 and <= 1:
                    arguments.FaultRate = rate;
                    break;
                case "--markdown" when value.Length > 0:
                    arguments.MarkdownPath = Path.GetFullPath(value);
                    break;
                case "--merge-quiet-ms" when TryInt(value, out int quietMs) && quietMs > 0:
                    arguments.CachedWindow = arguments.CachedWindow with { QuietMs = quietMs };
                    break;
                case "--merge-max-wait-ms" when TryInt(value, out int maxWaitMs) && maxWaitMs > 0:
                    arguments.CachedWindow = arguments.CachedWindow with { MaxWaitMs = maxWaitMs };
                    break;
                case "--quiescence-samples" when TryInt(value, out int samples) && samples > 0:
                    arguments.QuiescenceSamples = samples;
                    break;
                default:
                    error = $"unknown option or invalid value: {option} {value}";
                    return false;
            }
        }

        return true;
    }

    private static bool TryInt(string text, out int value) => int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value);
}
