using System.Globalization;

namespace Boxlite.Runtime.Linux.Processes;

/// <summary>What <c>/proc/&lt;pid&gt;/stat</c> says of a process.</summary>
/// <param name="Pid">The pid.</param>
/// <param name="State">Scheduler state letter (<c>R</c>, <c>S</c>, <c>D</c>, <c>Z</c>, ...).</param>
/// <param name="ParentPid">The parent's pid.</param>
/// <param name="Session">The session id (the pid of the session's leader).</param>
/// <param name="StartTime">Start time in clock ticks since boot (field 22).</param>
internal readonly record struct ProcStat(int Pid, char State, int ParentPid, int Session, long StartTime)
{
    /// <summary>True for a process that has exited and only awaits its parent's wait.</summary>
    public bool IsDead => State is 'Z' or 'X' or 'x';
}

/// <summary>Reads <c>/proc</c>. Every read is fresh: a process can change or vanish between two calls.</summary>
internal static class ProcFs
{
    private static readonly Lazy<string> CachedBootId = new(() => File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim());

    /// <summary>The id of the current boot (constant until reboot).</summary>
    internal static string BootId => CachedBootId.Value;

    /// <summary>Parses a <c>stat</c> line; the command name may hold spaces and parentheses, so fields start after the LAST ')'.</summary>
    internal static ProcStat? ParseStat(int pid, ReadOnlySpan<char> text)
    {
        var close = text.LastIndexOf(')');
        if (close < 0 || close + 2 >= text.Length)
        {
            return null;
        }

        var rest = text[(close + 2)..];
        var state = rest[0];
        int? parent = null;
        int? session = null;
        long? start = null;
        var field = 3;
        foreach (var range in rest.Split(' '))
        {
            var value = rest[range];
            if (field == 4)
            {
                parent = int.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture);
            }
            else if (field == 6)
            {
                session = int.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture);
            }
            else if (field == 22)
            {
                start = long.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
                break;
            }

            field++;
        }

        return parent is { } p && session is { } sid && start is { } s ? new ProcStat(pid, state, p, sid, s) : null;
    }

    /// <summary>The stat of a live (or zombie) pid, or null when it does not exist.</summary>
    internal static ProcStat? TryReadStat(int pid)
    {
        var text = TryRead($"/proc/{pid}/stat");
        return text is null ? null : ParseStat(pid, text);
    }

    /// <summary>The command name (<c>comm</c>), or <c>?</c> when the process is gone.</summary>
    internal static string ReadName(int pid) => TryRead($"/proc/{pid}/comm")?.TrimEnd('\n') ?? "?";

    /// <summary>A process for a survivor report: pid, name and state.</summary>
    internal static BoxProcessInfo Describe(int pid) =>
        new(pid, ReadName(pid), TryReadStat(pid)?.State ?? '?');

    /// <summary>The <c>NSpid:</c> values of a process, outermost first (one per PID namespace level), or null.</summary>
    internal static int[]? ReadNamespacePids(int pid)
    {
        var status = TryRead($"/proc/{pid}/status");
        return status is null ? null : ParseNamespacePids(status);
    }

    /// <summary>Parses the <c>NSpid:</c> line of a <c>status</c> file.</summary>
    internal static int[]? ParseNamespacePids(string status)
    {
        foreach (var line in status.AsSpan().EnumerateLines())
        {
            if (line.StartsWith("NSpid:", StringComparison.Ordinal))
            {
                var parts = line["NSpid:".Length..].ToString().Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
                return Array.ConvertAll(parts, p => int.Parse(p, NumberStyles.None, CultureInfo.InvariantCulture));
            }
        }

        return null;
    }

    /// <summary>The v2 cgroup path (the <c>0::</c> line) of a process, or null.</summary>
    internal static string? ReadCgroupV2Path(int pid)
    {
        var text = TryRead($"/proc/{pid}/cgroup");
        return text is null ? null : ParseCgroupV2Path(text);
    }

    /// <summary>Parses the <c>0::/path</c> line of a <c>/proc/&lt;pid&gt;/cgroup</c> file.</summary>
    internal static string? ParseCgroupV2Path(string text)
    {
        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (line.StartsWith("0::", StringComparison.Ordinal))
            {
                return line[3..].ToString();
            }
        }

        return null;
    }

    /// <summary>
    /// The pids whose parent is <paramref name="pid"/> now: from <c>/proc/&lt;pid&gt;/task/*/children</c>, or, on kernels
    /// without that file, from every process's parent field. Unchecked: a caller proves what it uses.
    /// </summary>
    internal static List<int> ReadChildren(int pid)
    {
        var children = new List<int>();
        var tasks = $"/proc/{pid}/task";
        try
        {
            foreach (var task in Directory.EnumerateDirectories(tasks))
            {
                var text = TryRead(Path.Combine(task, "children"));
                if (text is null)
                {
                    return [.. ListPids().Where(p => TryReadStat(p)?.ParentPid == pid)];
                }

                foreach (var child in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (int.TryParse(child, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                    {
                        children.Add(n);
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The process is gone.
        }

        return children;
    }

    /// <summary>Every pid in <c>/proc</c> now.</summary>
    internal static IEnumerable<int> ListPids()
    {
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(entry.AsSpan()), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                yield return pid;
            }
        }
    }

    /// <summary>The contents of a file, or null when it (or its process) is gone or unreadable.</summary>
    internal static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Parses a file of one integer per line (a pid file, <c>cgroup.procs</c>).</summary>
    internal static List<int> ParsePids(string? text)
    {
        var pids = new List<int>();
        if (text is null)
        {
            return pids;
        }

        foreach (var line in text.AsSpan().EnumerateLines())
        {
            if (int.TryParse(line.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                pids.Add(pid);
            }
        }

        return pids;
    }
}
