using System.Globalization;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Linux.Processes;

/// <summary>
/// Finds a box's processes from its record and directory, each proven by identity: the monitor (recorded identity),
/// its launcher child (<c>child.pid</c>: a child of the monitor started after it), the init of the box's PID
/// namespace (the launcher's child whose innermost pid is 1) and the command (innermost pid in <c>command.nspid</c>).
/// </summary>
internal static class BoxProcesses
{
    /// <summary>The monitor, when it is alive and still the recorded process.</summary>
    public static ProcessIdentity? Monitor(BoxContext box) =>
        box.Info.Monitor is { } m && ProcessSignaller.IsAlive(m) ? m : null;

    /// <summary>
    /// The monitor's first child (the command, or the isolation launcher). Proven by being the live monitor's child
    /// started after it; once the monitor is gone, only membership in the box's containment (<paramref name="inBox"/>)
    /// proves it, and without containment nothing does.
    /// </summary>
    public static ProcessIdentity? Launcher(BoxContext box, Func<int, bool>? inBox = null)
    {
        if (box.Info.Monitor is not { } monitor || ReadNumber(box.ChildPidFile) is not { } pid ||
            ProcFs.TryReadStat(pid) is not { IsDead: false } stat || monitor.BootId != ProcFs.BootId ||
            stat.StartTime < monitor.StartTime)
        {
            return null;
        }

        var proven = ProcessSignaller.IsAlive(monitor) ? stat.ParentPid == monitor.Pid : inBox?.Invoke(pid) == true;
        return proven ? new ProcessIdentity(pid, stat.StartTime, monitor.BootId) : null;
    }

    /// <summary>The init (innermost pid 1) of the PID namespace the launcher created, or null.</summary>
    public static ProcessIdentity? NamespaceInit(ProcessIdentity launcher)
    {
        var launcherLevels = ProcFs.ReadNamespacePids(launcher.Pid)?.Length ?? 0;
        foreach (var pid in ProcFs.ListPids())
        {
            if (ProcFs.TryReadStat(pid) is { IsDead: false } stat && stat.ParentPid == launcher.Pid &&
                ProcFs.ReadNamespacePids(pid) is { } ns && ns.Length == launcherLevels + 1 && ns[^1] == 1 &&
                ProcessSignaller.IsAlive(launcher))
            {
                return new ProcessIdentity(pid, stat.StartTime, launcher.BootId);
            }
        }

        return null;
    }

    /// <summary>
    /// The command inside the box's PID namespace: among <paramref name="candidates"/>, the process one namespace
    /// level below the monitor whose innermost pid is the one in <c>command.nspid</c>.
    /// </summary>
    public static ProcessIdentity? NamespacedCommand(BoxContext box, IEnumerable<int> candidates)
    {
        if (box.Info.Monitor is not { } monitor || ReadNumber(box.CommandNamespacePidFile) is not { } nspid ||
            ProcFs.ReadNamespacePids(monitor.Pid) is not { } monitorLevels)
        {
            return null;
        }

        foreach (var pid in candidates)
        {
            if (ProcFs.ReadNamespacePids(pid) is { } ns && ns.Length == monitorLevels.Length + 1 && ns[^1] == nspid &&
                ProcessSignaller.TryGetIdentity(pid) is { } identity && identity.StartTime >= monitor.StartTime)
            {
                return identity;
            }
        }

        return null;
    }

    /// <summary>Every live process in the same PID namespace as <paramref name="init"/> (for counting and reports).</summary>
    public static List<int> InNamespaceOf(int init)
    {
        var found = new List<int>();
        var target = TryReadLink($"/proc/{init}/ns/pid");
        if (target is null)
        {
            return found;
        }

        foreach (var pid in ProcFs.ListPids())
        {
            if (TryReadLink($"/proc/{pid}/ns/pid") == target && ProcFs.TryReadStat(pid) is { IsDead: false })
            {
                found.Add(pid);
            }
        }

        return found;
    }

    /// <summary>
    /// Every live process of the session <paramref name="leader"/> started (a box monitor is a session leader), born
    /// after it. While any member lives, the kernel does not hand the session's id to a new process.
    /// </summary>
    public static List<ProcessIdentity> InSessionOf(ProcessIdentity leader)
    {
        var found = new List<ProcessIdentity>();
        if (leader.BootId != ProcFs.BootId)
        {
            return found;
        }

        foreach (var pid in ProcFs.ListPids())
        {
            if (ProcFs.TryReadStat(pid) is { IsDead: false } stat && stat.Session == leader.Pid && stat.StartTime >= leader.StartTime)
            {
                found.Add(new ProcessIdentity(pid, stat.StartTime, leader.BootId));
            }
        }

        return found;
    }

    /// <summary>The integer in a pid file, or null.</summary>
    public static int? ReadNumber(string file) =>
        int.TryParse(ProcFs.TryRead(file)?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;

    private static string? TryReadLink(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
