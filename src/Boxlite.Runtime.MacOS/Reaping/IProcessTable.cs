namespace Boxlite.Runtime.MacOS.Reaping;

/// <summary>One process as the operating system reports it now.</summary>
/// <param name="Pid">Its pid.</param>
/// <param name="ParentPid">Its parent's pid.</param>
/// <param name="GroupId">Its process group.</param>
/// <param name="StartTime">Start time in the platform's unit (macOS: microseconds since the epoch; Linux: clock ticks since boot).</param>
/// <param name="StartedAt">The same instant on the wall clock, for comparing with file times.</param>
/// <param name="Name">Its command name.</param>
/// <param name="State">Scheduler state letter; <c>Z</c> for a zombie.</param>
internal sealed record ProcessEntry(int Pid, int ParentPid, int GroupId, long StartTime, DateTimeOffset StartedAt, string Name, char State)
{
    /// <summary>A zombie has exited: it runs nothing and only waits for its parent to collect its status.</summary>
    public bool IsZombie => State == 'Z';

    public BoxProcessInfo ToInfo() => new(Pid, Name, State);
}

/// <summary>
/// The process table seam: what the group sweep needs from the operating system. libSystem on macOS; a
/// <c>/proc</c> reader on Linux (tests); fakes for planning tests.
/// </summary>
internal interface IProcessTable
{
    /// <summary>The boot the start times belong to.</summary>
    string BootId { get; }

    /// <summary>The process with this pid now, or null when there is none.</summary>
    ProcessEntry? Get(int pid);

    /// <summary>Pids whose process group is <paramref name="groupId"/> (zombies included).</summary>
    IReadOnlyList<int> ListGroup(int groupId);

    /// <summary>Pids whose parent is <paramref name="pid"/>.</summary>
    IReadOnlyList<int> ListChildren(int pid);

    /// <summary><c>kill(pid, signal)</c>; returns 0 or the errno.</summary>
    int Signal(int pid, int signal);

    /// <summary><c>kill(-groupId, signal)</c>; returns 0 or the errno.</summary>
    int SignalGroup(int groupId, int signal);
}
