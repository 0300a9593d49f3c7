namespace Boxlite.Runtime;

/// <summary>
/// Resource limits of a box. They bind the box's command and everything it spawns or execs, never the runtime's own
/// machinery. A requested limit the host cannot enforce is an error, never dropped or raised; on Linux that includes a
/// limit below what a box needs to start (0.01 CPUs; 1 MiB of memory and 1 pid, or 4 MiB and 3 pids with a PID
/// namespace, whose launcher and init count against the limits beside the command).
/// </summary>
public sealed record BoxLimits
{
    /// <summary>No limits.</summary>
    public static BoxLimits None { get; } = new();

    /// <summary>Maximum memory in bytes (<c>memory.max</c>), or null for none.</summary>
    public long? MemoryBytes { get; init; }

    /// <summary>CPU share in CPUs, e.g. 0.5 for half a core (<c>cpu.max</c>), or null for none.</summary>
    public double? Cpus { get; init; }

    /// <summary>Maximum number of processes and threads (<c>pids.max</c>), or null for none.</summary>
    public int? PidsMax { get; init; }

    /// <summary>True when no limit is set.</summary>
    public bool IsEmpty => MemoryBytes is null && Cpus is null && PidsMax is null;
}
