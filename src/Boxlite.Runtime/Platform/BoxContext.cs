namespace Boxlite.Runtime.Platform;

/// <summary>What a platform knows of one box: its record and its directory.</summary>
/// <param name="Info">The box record.</param>
/// <param name="Directory">The box directory (<c>&lt;home&gt;/boxes/&lt;id&gt;</c>), holding logs and the exit status.</param>
public sealed record BoxContext(BoxInfo Info, string Directory)
{
    /// <summary>The box id.</summary>
    public BoxId Id => Info.Id;

    /// <summary>File the box monitor writes the exit status to (first line: exit code; second: reason).</summary>
    public string ExitFile => Path.Combine(Directory, "exit");

    /// <summary>File holding the pid of the monitor's first child, as the host sees it.</summary>
    public string ChildPidFile => Path.Combine(Directory, "child.pid");

    /// <summary>File holding the pid of the command inside its PID namespace (namespaced isolation only).</summary>
    public string CommandNamespacePidFile => Path.Combine(Directory, "command.nspid");
}

/// <summary>
/// What a platform contributes to running a process inside a box: the files the process writes its own pid into
/// before it does anything else (containment from the first instruction), and the argv prefix that isolates it.
/// </summary>
public sealed record BoxLaunchPlan
{
    /// <summary>Files the new process writes its pid into first (e.g. <c>cgroup.procs</c> of each hierarchy).</summary>
    public IReadOnlyList<string> JoinFiles { get; init; } = [];

    /// <summary>Argv placed before the user command (e.g. <c>unshare …</c>, <c>bwrap …</c>, <c>sandbox-exec -p …</c>).</summary>
    public IReadOnlyList<string> CommandPrefix { get; init; } = [];

    /// <summary>Files the command's wrapper writes its pid into before it execs the command (the command's own containment).</summary>
    public IReadOnlyList<string> CommandJoinFiles { get; init; } = [];

    /// <summary>When the command exits the monitor writes <c>1</c> here to kill what is left (<c>cgroup.kill</c>).</summary>
    public string? KillFile { get; init; }

    /// <summary>Without a kill file, the monitor SIGKILLs every pid listed here but its own, until none is left.</summary>
    public string? ProcsFile { get; init; }

    /// <summary>
    /// Without a kill file or procs file: a file whose first word is the pid of a process that kills the command's
    /// tree when it gets SIGTERM (macOS: the process-group keeper).
    /// </summary>
    public string? KillPidFile { get; init; }

    /// <summary>Argv placed before the monitor itself to give it a session of its own (e.g. <c>setsid</c>); empty for none.</summary>
    public IReadOnlyList<string> SessionPrefix { get; init; } = [];
}

/// <summary>One line of a host capability report (<c>boxlite doctor</c>, the health check).</summary>
/// <param name="Name">What was checked.</param>
/// <param name="Ok">Whether it is available.</param>
/// <param name="Detail">What was found.</param>
/// <param name="Fix">How to get it, when it is missing.</param>
public sealed record CapabilityCheck(string Name, bool Ok, string Detail, string? Fix = null);
