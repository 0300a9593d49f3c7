using System.Globalization;
using Boxlite.Runtime.Interop;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Launch;

/// <summary>
/// The two environments of a box: the launchers' own, fixed and trusted, and the command's (the host's <c>PATH</c> and
/// <c>HOME</c>, then the box's variables), which travels as an environment block (see <see cref="BoxLaunchPlan"/>).
/// </summary>
internal static class BoxEnvironment
{
    /// <summary>The <c>PATH</c> of the monitor and every launcher; nothing of the box or the host changes it.</summary>
    public const string LauncherPath = "/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>The command's <c>PATH</c> when neither the box nor the host has one.</summary>
    public const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /// <summary>The launchers' environment: <see cref="LauncherPath"/> and the given settings only.</summary>
    public static Dictionary<string, string> ForLauncher(IEnumerable<KeyValuePair<string, string>>? settings = null)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["PATH"] = LauncherPath };
        foreach (var (key, value) in settings ?? [])
        {
            environment[key] = value;
        }

        return environment;
    }

    /// <summary>The variables the command gets.</summary>
    public static Dictionary<string, string> ForCommand(BoxOptions options)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal) { ["PATH"] = HostPath };
        if (Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } home)
        {
            environment["HOME"] = home;
        }

        foreach (var (key, value) in options.Environment)
        {
            environment[key] = value;
        }

        return environment;
    }

    /// <summary>The environment block of the command: a count, then <c>NAME=VALUE</c> entries.</summary>
    public static List<string> Block(BoxOptions options)
    {
        var environment = ForCommand(options);
        var block = new List<string>(environment.Count + 1) { environment.Count.ToString(CultureInfo.InvariantCulture) };
        block.AddRange(environment.Select(e => e.Key + "=" + e.Value));
        return block;
    }

    /// <summary>
    /// G5 for a command: why <paramref name="command"/> cannot run with these options from
    /// <paramref name="directory"/> (null: a fresh, empty one) — not found on the box's <c>PATH</c>, not a regular
    /// executable file, a working directory that is not a directory — or an empty list.
    /// </summary>
    public static List<string> CommandProblems(BoxOptions options, string command, string? directory)
    {
        var problems = new List<string>();
        if (options.WorkingDirectory is { } workdir && !Directory.Exists(workdir))
        {
            problems.Add($"working directory '{workdir}' does not exist or is not a directory");
        }

        if (command.Contains('/', StringComparison.Ordinal))
        {
            if (!(command.StartsWith('/') || directory is not null) || !IsExecutableFile(Path.Combine(directory ?? "/", command)))
            {
                problems.Add($"command '{command}' is not an executable file");
            }
        }
        else if (!ForCommand(options)["PATH"].Split(':').Any(dir => dir.Length > 0 && IsExecutableFile(Path.Combine(dir, command))))
        {
            problems.Add($"command '{command}' is not found on the box's PATH");
        }

        return problems;
    }

    private static string HostPath => Environment.GetEnvironmentVariable("PATH") is { Length: > 0 } path ? path : DefaultPath;

    private static bool IsExecutableFile(string path) => Posix.FileType(path) == Posix.S_IFREG && Posix.access(path, Posix.X_OK) == 0;
}
