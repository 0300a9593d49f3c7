using System.Diagnostics.CodeAnalysis;

namespace Boxlite.Runtime;

/// <summary>Names of the signals a box may be stopped with. Numbers are the platform's business.</summary>
public static class BoxSignals
{
    /// <summary>The signal names accepted as <see cref="BoxOptions.StopSignal"/>, without the <c>SIG</c> prefix.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM", "ALRM", "WINCH", "CONT", "STOP", "PWR"];

    /// <summary>Normalizes <c>term</c>, <c>SIGTERM</c> or <c>15</c> to <c>TERM</c>; false for anything else.</summary>
    public static bool TryNormalize(string? text, [NotNullWhen(true)] out string? name)
    {
        name = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var t = text.Trim().ToUpperInvariant();
        if (t.StartsWith("SIG", StringComparison.Ordinal))
        {
            t = t[3..];
        }

        if (int.TryParse(t, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            // Only the numbers that are the same on Linux and macOS.
            t = number switch
            {
                1 => "HUP",
                2 => "INT",
                3 => "QUIT",
                9 => "KILL",
                14 => "ALRM",
                15 => "TERM",
                _ => string.Empty,
            };
        }

        foreach (var known in Names)
        {
            if (known == t)
            {
                name = known;
                return true;
            }
        }

        return false;
    }
}
