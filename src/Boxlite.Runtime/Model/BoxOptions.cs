using System.Text.RegularExpressions;

namespace Boxlite.Runtime;

/// <summary>Everything that defines a box before it exists. Immutable; validated as a whole by the runtime.</summary>
public sealed partial record BoxOptions
{
    /// <summary>The command to run (a path or a name found on the box's <c>PATH</c>).</summary>
    public required string Command { get; init; }

    /// <summary>Arguments of the command.</summary>
    public IReadOnlyList<string> Args { get; init; } = [];

    /// <summary>
    /// Environment variables of the command, on top of <c>PATH</c> and <c>HOME</c> of the host; names are shell
    /// identifiers (<c>[A-Za-z_][A-Za-z0-9_]*</c>). They reach the command only: the box's <c>PATH</c> is the one its
    /// command is looked up with, and nothing of the runtime's own machinery runs with them.
    /// </summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = new Dictionary<string, string>();

    /// <summary>Absolute working directory of the command (an existing directory); null for the box's own work directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Optional unique label (<c>[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}</c>).</summary>
    public string? Name { get; init; }

    /// <summary>A detached box outlives the runtime that started it; an attached box dies with it.</summary>
    public bool Detached { get; init; }

    /// <summary>Remove the box once it has exited (also when it exited while no runtime ran).</summary>
    public bool AutoRemove { get; init; }

    /// <summary>The signal a stop delivers to the command first (<c>TERM</c>, <c>SIGINT</c>, ...).</summary>
    public string StopSignal { get; init; } = "TERM";

    /// <summary>Grace period between the stop signal and the reap; null for the runtime default.</summary>
    public TimeSpan? StopTimeout { get; init; }

    /// <summary>Isolation of the command.</summary>
    public BoxIsolation Isolation { get; init; } = BoxIsolation.None;

    /// <summary>Resource limits.</summary>
    public BoxLimits Limits { get; init; } = BoxLimits.None;

    /// <summary>Free-form labels, for the caller's bookkeeping.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>The longest accepted box name.</summary>
    public const int MaxNameLength = 128;

    /// <summary>Environment names reserved for the box monitor.</summary>
    internal const string ReservedEnvironmentPrefix = "BOXLITE_";

    /// <summary>True when <paramref name="name"/> is a valid box name.</summary>
    public static bool IsValidName(string? name) => name is not null && NamePattern().IsMatch(name);

    /// <summary>
    /// True when <paramref name="name"/> can name an environment variable of a box: a shell identifier
    /// (<c>[A-Za-z_][A-Za-z0-9_]*</c>), which every shell and tool on the way can carry.
    /// </summary>
    public static bool IsValidEnvironmentName(string? name) => name is not null && EnvironmentNamePattern().IsMatch(name);

    /// <summary>Every problem of these options (empty when valid). Platform checks come on top.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(Command))
        {
            problems.Add("command is empty");
        }
        else if (Command.Contains('\0', StringComparison.Ordinal))
        {
            problems.Add("command contains a NUL character");
        }

        if (Args is null)
        {
            problems.Add("args is null");
        }
        else
        {
            for (var i = 0; i < Args.Count; i++)
            {
                if (Args[i] is null)
                {
                    problems.Add($"argument {i} is null");
                }
                else if (Args[i].Contains('\0', StringComparison.Ordinal))
                {
                    problems.Add($"argument {i} contains a NUL character");
                }
            }
        }

        ValidateEnvironment(problems);

        if (Name is not null && !IsValidName(Name))
        {
            problems.Add($"name '{Printable(Name)}' is invalid: use [a-zA-Z0-9][a-zA-Z0-9_.-]{{0,{MaxNameLength - 1}}}");
        }

        if (WorkingDirectory is not null &&
            (WorkingDirectory.Length == 0 || WorkingDirectory[0] != '/' || WorkingDirectory.Contains('\0', StringComparison.Ordinal)))
        {
            problems.Add($"working directory '{Printable(WorkingDirectory)}' must be an absolute path");
        }

        if (!BoxSignals.TryNormalize(StopSignal, out _))
        {
            problems.Add($"stop signal '{Printable(StopSignal ?? string.Empty)}' is unknown: use one of {string.Join(", ", BoxSignals.Names)}");
        }

        if (StopTimeout is { } timeout && (timeout < TimeSpan.Zero || timeout > TimeSpan.FromDays(1)))
        {
            problems.Add("stop timeout must be between 0 and 1 day");
        }

        if (!Enum.IsDefined(Isolation))
        {
            problems.Add($"isolation '{Isolation}' is unknown");
        }

        ValidateLimits(problems);

        foreach (var (key, value) in Labels ?? new Dictionary<string, string>())
        {
            if (string.IsNullOrEmpty(key) || key.Contains('\0', StringComparison.Ordinal) || value?.Contains('\0', StringComparison.Ordinal) != false)
            {
                problems.Add($"label '{Printable(key ?? string.Empty)}' is invalid");
            }
        }

        return problems;
    }

    private void ValidateEnvironment(List<string> problems)
    {
        if (Environment is null)
        {
            problems.Add("environment is null");
            return;
        }

        foreach (var (key, value) in Environment)
        {
            if (string.IsNullOrEmpty(key))
            {
                problems.Add("environment variable name is empty");
            }
            else if (!EnvironmentNamePattern().IsMatch(key))
            {
                problems.Add($"environment variable name '{Printable(key)}' is not a shell identifier ([A-Za-z_][A-Za-z0-9_]*)");
            }
            else if (key.StartsWith(ReservedEnvironmentPrefix, StringComparison.Ordinal))
            {
                problems.Add($"environment variable name '{key}' uses the reserved prefix {ReservedEnvironmentPrefix}");
            }

            if (value is null)
            {
                problems.Add($"environment variable '{Printable(key ?? string.Empty)}' has a null value");
            }
            else if (value.Contains('\0', StringComparison.Ordinal))
            {
                problems.Add($"environment variable '{Printable(key ?? string.Empty)}' contains a NUL character");
            }
        }
    }

    private void ValidateLimits(List<string> problems)
    {
        if (Limits is null)
        {
            problems.Add("limits is null");
            return;
        }

        if (Limits.MemoryBytes is { } memory && memory <= 0)
        {
            problems.Add($"memory limit must be positive, not {memory}");
        }

        if (Limits.Cpus is { } cpus && (!double.IsFinite(cpus) || cpus <= 0 || cpus > 1024))
        {
            problems.Add($"cpu limit must be a positive number of CPUs, not {cpus}");
        }

        if (Limits.PidsMax is { } pids && pids <= 0)
        {
            problems.Add($"pids limit must be positive, not {pids}");
        }
    }

    private static string Printable(string text)
    {
        var shown = text.Length > 40 ? text[..40] + "…" : text;
        return shown.Replace("\0", "\\0", StringComparison.Ordinal);
    }

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    // The box's variables are exported by a shell right before the command runs: only names a shell can carry.
    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*\\z", RegexOptions.CultureInvariant)]
    private static partial Regex EnvironmentNamePattern();
}
