namespace Boxlite.Runtime;

/// <summary>What a reaper guarantees to tear down. The runtime never claims more than its reaper.</summary>
public enum ReapGuarantee
{
    /// <summary>Only the recorded process, identity-checked. Descendants may survive.</summary>
    SingleProcess = 0,

    /// <summary>The box's process group; descendants that leave it (<c>setsid</c>) are not covered.</summary>
    ProcessGroup = 1,

    /// <summary>Every process the box ever spawned, wherever it went (cgroup, or private PID namespace).</summary>
    WholeTree = 2,
}

/// <summary>Whether a reaper works on this host, and why not.</summary>
/// <param name="IsSupported">True when it can be used.</param>
/// <param name="Reason">Why it can or cannot.</param>
public sealed record ReaperSupport(bool IsSupported, string Reason);

/// <summary>
/// What a reap did. A reap returns only once none of the box's processes is left; one that cannot confirm that throws
/// <see cref="ReapTimeoutException"/>, which names the survivors.
/// </summary>
public sealed record ReapReport
{
    /// <summary>The reaper (method) used.</summary>
    public required string Method { get; init; }

    /// <summary>Processes present when the kill was issued.</summary>
    public required int ProcessesKilled { get; init; }

    /// <summary>Time from the start of the reap until it was confirmed.</summary>
    public required TimeSpan Duration { get; init; }

    /// <summary>True when the containment (cgroup directory) was removed.</summary>
    public bool ContainmentRemoved { get; init; }

    /// <summary>The guarantee of the method.</summary>
    public ReapGuarantee Guarantee { get; init; }

    /// <summary>
    /// How many processes of the box the kernel killed for going over its memory limit (Linux: the cgroup's
    /// <c>memory.events</c> <c>oom_kill</c>, read before the containment was removed); 0 when none or unknown.
    /// </summary>
    public int OutOfMemoryKills { get; init; }

    /// <summary>Why the box ended, as far as this reap saw it (an out-of-memory kill), or null.</summary>
    internal string? OutOfMemoryReason => OutOfMemoryKills > 0
        ? $"out of memory: the kernel's OOM killer killed {OutOfMemoryKills} process(es) of the box at its memory limit"
        : null;

    /// <summary>A report for a box that had nothing left to reap.</summary>
    public static ReapReport Nothing(string method, ReapGuarantee guarantee) =>
        new() { Method = method, ProcessesKilled = 0, Duration = TimeSpan.Zero, ContainmentRemoved = true, Guarantee = guarantee };
}
