namespace Boxlite.Runtime;

/// <summary>The identity of a process that cannot be confused with a later process reusing its pid.</summary>
/// <param name="Pid">The pid.</param>
/// <param name="StartTime">Start time as the platform reports it (Linux: clock ticks since boot, <c>/proc/&lt;pid&gt;/stat</c> field 22).</param>
/// <param name="BootId">The boot the pid belongs to.</param>
internal sealed record ProcessIdentity(int Pid, long StartTime, string BootId);

/// <summary>A box record: what the box is and where it is in its lifecycle.</summary>
public sealed record BoxInfo
{
    /// <summary>The box id.</summary>
    public required BoxId Id { get; init; }

    /// <summary>The optional unique name.</summary>
    public string? Name { get; init; }

    /// <summary>The lifecycle state.</summary>
    public required BoxState State { get; init; }

    /// <summary>The options the box was created with.</summary>
    public required BoxOptions Options { get; init; }

    /// <summary>When the box was created.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the command started, if it did.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When the box finished, if it did.</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>The exit code (128 + signal when killed by a signal); null while running or when unknown.</summary>
    public int? ExitCode { get; init; }

    /// <summary>The signal that ended the box when it was reaped or killed (e.g. <c>KILL</c>), else null.</summary>
    public string? KilledBy { get; init; }

    /// <summary>Why the box is in its state, when that is not obvious (failure reason, recovery note).</summary>
    public string? StatusReason { get; init; }

    /// <summary>
    /// The pid of the box monitor (the box's anchor process, inside its containment) once started, for display: after
    /// the box is gone the pid may belong to another process, so never signal it yourself.
    /// </summary>
    public int? Pid => Monitor?.Pid;

    /// <summary>The reaper that contains this box (named at start).</summary>
    public string? Reaper { get; init; }

    /// <summary>The box monitor's identity once started.</summary>
    internal ProcessIdentity? Monitor { get; init; }

    /// <summary>The runtime process an attached box belongs to (it dies with it); null for a detached box.</summary>
    internal ProcessIdentity? Owner { get; init; }

    /// <summary>The process doing an in-flight start or stop (<see cref="BoxState.Starting"/>, <see cref="BoxState.Stopping"/>), so that a dead one's work is finished by others.</summary>
    internal ProcessIdentity? Holder { get; init; }

    /// <summary>
    /// Where the platform contains this box (Linux: its cgroup path), recorded before the containment is made, so
    /// that every later reap finds it whatever the settings of the runtime doing it; null for records made before.
    /// </summary>
    internal string? Containment { get; init; }

    /// <summary>Row version; every change increments it (compare-and-set).</summary>
    internal long Version { get; init; }

    /// <summary>A record the store could not read whole (state Unknown, the reason in <see cref="StatusReason"/>): it can only be removed, with force.</summary>
    internal bool IsUnreadable { get; init; }

    /// <summary>Whether the box outlives its runtime.</summary>
    public bool Detached => Options.Detached;

    /// <summary>The isolation of the command.</summary>
    public BoxIsolation Isolation => Options.Isolation;
}

/// <summary>Resource use of a box, read from its containment (the cgroup), not from one pid.</summary>
/// <param name="CpuTime">CPU time used by every process of the box, if known.</param>
/// <param name="MemoryCurrentBytes">Memory in use, if known.</param>
/// <param name="MemoryPeakBytes">Peak memory, if known.</param>
/// <param name="ProcessCount">Processes in the box now.</param>
public sealed record BoxMetrics(TimeSpan? CpuTime, long? MemoryCurrentBytes, long? MemoryPeakBytes, int ProcessCount);

/// <summary>The outcome of an exec.</summary>
/// <param name="ExitCode">Exit code of the command (128 + signal when killed).</param>
/// <param name="StandardOutput">Everything it wrote to stdout.</param>
/// <param name="StandardError">Everything it wrote to stderr.</param>
public sealed record BoxExecResult(int ExitCode, string StandardOutput, string StandardError);

/// <summary>Which output stream a log line came from.</summary>
public enum BoxLogSource
{
    /// <summary>Standard output.</summary>
    StandardOutput = 1,

    /// <summary>Standard error.</summary>
    StandardError = 2,
}

/// <summary>One line of a box's (or an exec's) output.</summary>
/// <param name="Source">Where it came from.</param>
/// <param name="Text">The line, without its newline.</param>
public readonly record struct BoxLogLine(BoxLogSource Source, string Text);
