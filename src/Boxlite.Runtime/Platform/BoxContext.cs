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
    internal string ExitFile => Path.Combine(Directory, "exit");

    /// <summary>File holding the pid of the process the monitor started the command in, as the host sees it.</summary>
    internal string ChildPidFile => Path.Combine(Directory, "child.pid");

    /// <summary>The box's log: both output streams of the command, in arrival order (see <see cref="Monitor.BoxLog"/>).</summary>
    internal string LogFile => Path.Combine(Directory, Monitor.BoxLog.FileName);

    /// <summary>The directory the command starts in: its explicit working directory, else <see cref="WorkDirectory"/>.</summary>
    internal string CommandDirectory => Info.Options.WorkingDirectory ?? WorkDirectory;
}

/// <summary>
/// How a box is contained, as its reaper prepares it (<see cref="ITreeReaper.PrepareAsync"/>): the files a process of
/// the box writes its own pid into before it does anything else, so that it is contained from its first instruction and
/// so is everything it ever starts (e.g. <c>cgroup.procs</c> of a cgroup). Empty lists: no containment to join.
/// </summary>
/// <remarks>
/// The box's first process is its monitor, which starts the command and records its exit. When the command is done
/// the monitor of a built-in reaper also kills what the command left behind; with any other reaper it does not, and the
/// runtime's reap (<see cref="ITreeReaper.ReapAsync"/>) after the exit does it.
/// </remarks>
public sealed record BoxContainment
{
    /// <summary>Files the box monitor writes its pid into first (e.g. <c>cgroup.procs</c> of the box's monitor cgroup).</summary>
    public IReadOnlyList<string> MonitorJoinFiles { get; init; } = [];

    /// <summary>
    /// Files the box's command, and every process executed into the running box, writes its pid into before it runs
    /// anything (e.g. <c>cgroup.procs</c> of the command's cgroup in each hierarchy).
    /// </summary>
    public IReadOnlyList<string> CommandJoinFiles { get; init; } = [];

    /// <summary>How the monitor kills what the command left when it is done: the built-in reapers' own, else none.</summary>
    internal CommandKill? Kill { get; init; }
}

/// <summary>
/// How the box monitor kills the rest of the command's tree when the command is done (or its host is gone): a closed
/// set, provided only by the built-in reapers, written to the monitor by <see cref="Monitor.MonitorProcess"/>.
/// </summary>
internal abstract record CommandKill
{
    private CommandKill()
    {
    }

    /// <summary>Writes <c>1</c> to the <c>cgroup.kill</c> of the command's cgroup (kernel 5.14+).</summary>
    internal sealed record CgroupKill(string CgroupDirectory) : CommandKill;

    /// <summary>
    /// Freezes the command's cgroup, SIGKILLs every pid listed in it and in the cgroups below it once frozen is confirmed,
    /// thaws; until empty.
    /// </summary>
    internal sealed record FreezeKill(string CgroupDirectory) : CommandKill;

    /// <summary>Sends SIGTERM to the process whose pid is the first word of the file: it kills the command's tree (macOS's keeper).</summary>
    internal sealed record KeeperKill(string PidFile) : CommandKill;
}

/// <summary>
/// What a platform contributes to running a process inside a box: its containment, and the argv prefix that isolates it.
/// </summary>
/// <remarks>
/// The box's environment never reaches the launchers: they run with a clean one, and the box's variables travel as
/// arguments, an <em>environment block</em> (a count, then that many <c>NAME=VALUE</c>) placed right before the
/// command. The innermost wrapper applies it just before it execs the command: the runtime's own launcher when
/// <see cref="CommandPrefix"/> is empty, otherwise the prefix, whose last program must consume the block (a POSIX
/// <c>sh</c> wrapper ends with <see cref="ApplyEnvironment"/>).
/// </remarks>
internal sealed record BoxLaunchPlan
{
    /// <summary>
    /// POSIX <c>sh</c> text that applies the environment block in its positional parameters (exports each entry) and
    /// execs the rest, so the box's <c>PATH</c> is the one the command is looked up with. Names are shell identifiers
    /// (<see cref="BoxOptions.Validate"/> refuses others).
    /// </summary>
    public const string ApplyEnvironment =
        "n=$1; shift; while [ \"$n\" -gt 0 ]; do export \"$1\" || exit 125; shift; n=$((n - 1)); done; exec \"$@\"";

    /// <summary>The files the process joins first: the monitor its own, the command and executed processes theirs.</summary>
    public BoxContainment Containment { get; init; } = new();

    /// <summary>
    /// Argv placed before the environment block and the user command (e.g. <c>unshare …</c>, <c>bwrap …</c>); a
    /// non-empty prefix applies the block itself (see the remarks).
    /// </summary>
    public IReadOnlyList<string> CommandPrefix { get; init; } = [];

    /// <summary>
    /// The platform's compiled monitor (an absolute path): it runs the box (<c>monitor</c> mode) and every process
    /// executed into it (<c>exec</c> mode). Null: the portable <c>sh</c> monitor, and executed processes join nothing.
    /// </summary>
    internal string? MonitorProgram { get; init; }

    /// <summary>
    /// Argv placed before the <c>sh</c> monitor to give it a session of its own where the runtime cannot spawn it as a
    /// session leader itself (it can on Linux).
    /// </summary>
    internal IReadOnlyList<string> SessionPrefix { get; init; } = [];
}

/// <summary>One line of a host capability report (<c>boxlite doctor</c>, the health check).</summary>
/// <param name="Name">What was checked.</param>
/// <param name="Ok">Whether it is available.</param>
/// <param name="Detail">What was found.</param>
/// <param name="Fix">How to get it, when it is missing.</param>
public sealed record CapabilityCheck(string Name, bool Ok, string Detail, string? Fix = null);
