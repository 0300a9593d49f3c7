using System.Globalization;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Linux.Processes;

/// <summary>
/// Finds a box's processes from its record and the process tree, each proven by identity: the monitor (recorded
/// identity), its launcher child, the init of the box's PID namespace (the launcher's child, one namespace level
/// deeper, innermost pid 1) and the command (the init's first child, innermost pid 2). Nothing the box can write
/// decides which process these are.
/// </summary>
internal static class BoxProcesses
{
    /// <summary>The monitor, when it is alive and still the recorded process.</summary>
    public static ProcessIdentity? Monitor(BoxContext box) =>
        box.Info.Monitor is { } m && ProcessSignaller.IsAlive(m) ? m : null;

    /// <summary>
    /// The monitor's child named in <c>child.pid</c>, proven only by being the live monitor's child started after it:
    /// for a box without cgroup or namespace, where nothing better tells the command from the monitor's log writers.
    /// </summary>
    public static ProcessIdentity? Launcher(BoxContext box)
    {
        if (Monitor(box) is not { } monitor || ReadNumber(box.ChildPidFile) is not { } pid)
        {
            return null;
        }

        return ChildrenOf(monitor).FirstOrDefault(c => c.Pid == pid);
    }

    /// <summary>
    /// The box's PID namespace, found from the live monitor: the launcher is the monitor's child whose own child is
    /// one namespace level deeper with innermost pid 1, the namespace's init.
    /// </summary>
    public static (ProcessIdentity Launcher, ProcessIdentity Init)? Namespace(ProcessIdentity monitor)
    {
        if (ProcFs.ReadNamespacePids(monitor.Pid) is not { } levels)
        {
            return null;
        }

        foreach (var launcher in ChildrenOf(monitor))
        {
            foreach (var init in ChildrenOf(launcher))
            {
                if (ProcFs.ReadNamespacePids(init.Pid) is { } ns && ns.Length == levels.Length + 1 && ns[^1] == 1)
                {
                    return (launcher, init);
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The command of a namespaced box: the first child of its namespace's init, innermost pid 2. The init exits with
    /// the command, so while the init lives no other process can hold that pid.
    /// </summary>
    public static ProcessIdentity? NamespacedCommand(ProcessIdentity monitor)
    {
        if (Namespace(monitor) is not { Init: var init } || ProcFs.ReadNamespacePids(init.Pid) is not { } levels)
        {
            return null;
        }

        return ChildrenOf(init).FirstOrDefault(c =>
            ProcFs.ReadNamespacePids(c.Pid) is { } ns && ns.Length == levels.Length && ns[^1] == 2);
    }

    /// <summary>
    /// The live children of a live process, each started after it. Read, then checked against the parent's identity
    /// again: were the parent gone, a pid's parent field could name a later process with its pid.
    /// </summary>
    public static List<ProcessIdentity> ChildrenOf(ProcessIdentity parent)
    {
        var children = new List<ProcessIdentity>();
        foreach (var pid in ProcFs.ReadChildren(parent.Pid))
        {
            if (ProcFs.TryReadStat(pid) is { IsDead: false } stat && stat.ParentPid == parent.Pid && stat.StartTime >= parent.StartTime)
            {
                children.Add(new ProcessIdentity(pid, stat.StartTime, parent.BootId));
            }
        }

        return ProcessSignaller.IsAlive(parent) ? children : [];
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

    /// <summary>The integer in a pid file (read as a control file: a FIFO or a link there is no number), or null.</summary>
    public static int? ReadNumber(string file) =>
        int.TryParse(ControlFile.TryRead(file)?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;

    /// <summary>The target of a symbolic link (a namespace of <c>/proc/&lt;pid&gt;/ns</c>), or null.</summary>
    public static string? TryReadLink(string path)
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
