using System.Globalization;

namespace Boxlite.Cli;

/// <summary>Bad command-line input: exit code 1, one line on stderr.</summary>
internal sealed class CliUsageException(string message) : Exception(message);

/// <summary>Turns option text into runtime values; every rejection is a <see cref="CliUsageException"/>.</summary>
internal static class CliParsing
{
    /// <summary>Parses <c>256m</c>, <c>1G</c>, <c>512k</c>, <c>1024b</c> or <c>1024</c> (bytes) into a positive byte count.</summary>
    public static long ParseSize(string text, string option)
    {
        var t = text.Trim();
        long unit = 1;
        if (t.Length > 0 && char.IsAsciiLetter(t[^1]))
        {
            unit = char.ToLowerInvariant(t[^1]) switch
            {
                'b' => 1,
                'k' => 1024,
                'm' => 1024 * 1024,
                'g' => 1024 * 1024 * 1024,
                _ => 0,
            };
            t = t[..^1];
        }

        if (unit == 0 || !long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            throw new CliUsageException($"{option} '{text}' is not a size: use a positive number with b, k, m or g (e.g. 256m)");
        }

        if (number <= 0)
        {
            throw new CliUsageException($"{option} must be positive, not '{text}'");
        }

        try
        {
            return checked(number * unit);
        }
        catch (OverflowException)
        {
            throw new CliUsageException($"{option} '{text}' is too large");
        }
    }

    /// <summary>Parses a positive number of CPUs such as <c>0.5</c> or <c>2</c>.</summary>
    public static double ParseCpus(string text, string option)
    {
        if (!double.TryParse(text.Trim(), NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var cpus) || !double.IsFinite(cpus))
        {
            throw new CliUsageException($"{option} '{text}' is not a number of CPUs (e.g. 0.5)");
        }

        return cpus > 0 ? cpus : throw new CliUsageException($"{option} must be positive, not '{text}'");
    }

    /// <summary>Parses a positive whole number such as a process count.</summary>
    public static int ParseCount(string text, string option) =>
        int.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var count) && count > 0
            ? count
            : throw new CliUsageException($"{option} '{text}' is not a whole number from 1 to {int.MaxValue.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>Parses a non-negative number of seconds such as <c>10</c> or <c>0.5</c>.</summary>
    public static TimeSpan ParseSeconds(string text, string option) =>
        double.TryParse(text.Trim(), NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds) &&
        double.IsFinite(seconds) && seconds >= 0 && seconds <= TimeSpan.MaxValue.TotalSeconds
            ? TimeSpan.FromSeconds(seconds)
            : throw new CliUsageException($"{option} '{text}' is not a number of seconds (0 or more, e.g. 10 or 0.5)");

    /// <summary>
    /// Parses <c>-e K=V</c> entries; <c>-e K</c> alone takes this process's value of K (and is skipped when K is unset,
    /// as docker does).
    /// </summary>
    public static Dictionary<string, string> ParseEnvironment(IEnumerable<string> entries, Func<string, string?> lookup)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var eq = entry.IndexOf('=', StringComparison.Ordinal);
            var key = eq < 0 ? entry : entry[..eq];
            if (key.Length == 0)
            {
                throw new CliUsageException($"--env '{entry}' has no variable name: use K=V or K");
            }

            if (!BoxOptions.IsValidEnvironmentName(key))
            {
                throw new CliUsageException($"--env '{entry}': '{key}' is not a variable name a shell can carry: use letters, digits and _, not starting with a digit");
            }

            if (eq >= 0)
            {
                env[key] = entry[(eq + 1)..];
            }
            else if (lookup(key) is { } inherited)
            {
                env[key] = inherited;
            }
        }

        return env;
    }

    /// <summary>The isolation named on the command line.</summary>
    public static BoxIsolation ParseIsolation(string text) => text.ToLowerInvariant() switch
    {
        "none" => BoxIsolation.None,
        "pid" => BoxIsolation.PidNamespace,
        "bwrap" => BoxIsolation.Bubblewrap,
        "seatbelt" => BoxIsolation.Seatbelt,
        _ => throw new CliUsageException($"--isolation '{text}' is unknown: use none, pid, bwrap or seatbelt"),
    };

    /// <summary>The command-line name of an isolation (the inverse of <see cref="ParseIsolation"/>).</summary>
    public static string IsolationName(BoxIsolation isolation) => isolation switch
    {
        BoxIsolation.None => "none",
        BoxIsolation.PidNamespace => "pid",
        BoxIsolation.Bubblewrap => "bwrap",
        BoxIsolation.Seatbelt => "seatbelt",
        _ => isolation.ToString().ToLowerInvariant(),
    };

    /// <summary>Normalizes a stop signal name (<c>TERM</c>, <c>SIGINT</c>, <c>9</c>).</summary>
    public static string ParseSignal(string text) =>
        BoxSignals.TryNormalize(text, out var name)
            ? name
            : throw new CliUsageException($"--stop-signal '{text}' is not a signal: use one of {string.Join(", ", BoxSignals.Names)}");
}
