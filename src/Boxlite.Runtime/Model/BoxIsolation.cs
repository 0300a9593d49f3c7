namespace Boxlite.Runtime;

/// <summary>How a box's command is isolated beyond its containment (cgroup on Linux, process group on macOS).</summary>
public enum BoxIsolation
{
    /// <summary>Containment only: the command sees the host as it is.</summary>
    None = 0,

    /// <summary>Linux: a private PID namespace (<c>unshare --pid --fork --mount-proc</c>).</summary>
    PidNamespace = 1,

    /// <summary>Linux: bubblewrap — new pid/ipc/uts namespaces, read-only system, private /tmp, the box directory writable.</summary>
    Bubblewrap = 2,

    /// <summary>macOS: a generated seatbelt profile through <c>/usr/bin/sandbox-exec</c>.</summary>
    Seatbelt = 3,
}
