namespace Boxlite.Runtime.Platform;

/// <summary>What a platform knows of one box: its record and its directory.</summary>
/// <param name="Info">The box record.</param>
/// <param name="Directory">
/// The box directory (<c>&lt;home&gt;/boxes/&lt;id&gt;</c>): the box's control part (exit status, pids, logs, FIFOs),
/// written only by the monitor and the runtime. The command works in <see cref="WorkDirectory"/> below it.
/// </param>
public sealed record BoxContext(BoxInfo Info, string Directory)
{
    /// <summary>The box id.</summary>
    public BoxId Id => Info.Id;

    /// <summary>
    /// The command's default working directory (<c>&lt;box&gt;/work</c>), and the only box path an isolating
    /// platform lets the command write: what a program writes there never changes anything about its box.
    /// </summary>
    public string WorkDirectory => Path.Combine(Directory, WorkDirectoryName);

    internal const string WorkDirectoryName = "work";

    /// <summary>File the box monitor writes the exit status to (first line: exit code; second: reason).</summary>
    public string ExitFile => Path.Combine(Directory, "exit");

    /// <summary>File holding the pid of the monitor's first child, as the host sees it.</summary>
    public string ChildPidFile => Path.Combine(Directory, "child.pid");

    /// <summary>File holding the pid of the command inside its PID namespace (namespaced isolation only).</summary>
    public string CommandNamespacePidFile => Path.Combine(Directory, "command.nspid");

    /// <summary>The directory the command starts in: its explicit working directory, else <see cref="WorkDirectory"/>.</summary>
    public string CommandDirectory => Info.Options.WorkingDirectory ?? WorkDirectory;
}

/// <summary>
/// What a platform contributes to running a process inside a box: the files the process writes its own pid into
/// before it does anything else (containment from the first instruction), and the argv prefix that isolates it.
/// </summary>
/// <remarks>
/// The box's environment never reaches the launchers: they run with a clean one, and the box's variables travel as
/// arguments, an <em>environment block</em> (a count, then that many <c>NAME=VALUE</c>) placed right before the
/// command. The innermost wrapper applies it just before it execs the command: the runtime's own launcher when
/// <see cref="CommandPrefix"/> is empty, otherwise the prefix, whose last program must consume the block (a POSIX
/// <c>sh</c> wrapper ends with <see cref="ApplyEnvironment"/>).
/// </remarks>
public sealed record BoxLaunchPlan
{
    /// <summary>
    /// POSIX <c>sh</c> text that applies the environment block in its positional parameters (exports each entry) and
    /// execs the rest, so the box's <c>PATH</c> is the one the command is looked up with. Names are shell identifiers
    /// (<see cref="BoxOptions.Validate"/> refuses others).
    /// </summary>
    public const string ApplyEnvironment =
        "n=$1; shift; while [ \"$n\" -gt 0 ]; do export \"$1\" || exit 125; shift; n=$((n - 1)); done; exec \"$@\"";

    /// <summary>Files the new process writes its pid into first (e.g. <c>cgroup.procs</c> of each hierarchy).</summary>
    public IReadOnlyList<string> JoinFiles { get; init; } = [];

    /// <summary>
    /// Argv placed before the environment block and the user command (e.g. <c>unshare …</c>, <c>bwrap …</c>); a
    /// non-empty prefix applies the block itself (see the remarks).
    /// </summary>
    public IReadOnlyList<string> CommandPrefix { get; init; } = [];

    /// <summary>
    /// True when the prefix's wrapper runs where it cannot see the control directory (bubblewrap) and writes the
    /// command's namespace pid to descriptor 3 instead: the monitor opens that descriptor on
    /// <see cref="BoxContext.CommandNamespacePidFile"/>, and the wrapper closes it before the command runs.
    /// </summary>
    public bool NamespacePidOnDescriptor3 { get; init; }

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

    /// <summary>
    /// Argv placed before the monitor to give it a session of its own where the runtime cannot spawn it as a session
    /// leader itself (it can on Linux); empty when the runtime does it.
    /// </summary>
    public IReadOnlyList<string> SessionPrefix { get; init; } = [];
}

/// <summary>One line of a host capability report (<c>boxlite doctor</c>, the health check).</summary>
/// <param name="Name">What was checked.</param>
/// <param name="Ok">Whether it is available.</param>
/// <param name="Detail">What was found.</param>
/// <param name="Fix">How to get it, when it is missing.</param>
public sealed record CapabilityCheck(string Name, bool Ok, string Detail, string? Fix = null);
