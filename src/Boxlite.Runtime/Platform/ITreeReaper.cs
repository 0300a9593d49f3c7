namespace Boxlite.Runtime.Platform;

/// <summary>
/// The strategy that contains and tears down a box. Keyed by box id, idempotent, and safe on a box that never
/// started or is already gone.
/// </summary>
public interface ITreeReaper
{
    /// <summary>The method's name, as reports show it (e.g. <c>cgroup-kill</c>).</summary>
    string Name { get; }

    /// <summary>What this reaper guarantees to tear down.</summary>
    ReapGuarantee Guarantee { get; }

    /// <summary>Whether it works on this host, and why.</summary>
    ReaperSupport Support { get; }

    /// <summary>
    /// Creates the box's containment (e.g. its cgroup with limits) and says how a process joins it. Called once per
    /// start, before any process of the box exists.
    /// </summary>
    ValueTask<BoxContainment> PrepareAsync(BoxContext box, CancellationToken cancellationToken);

    /// <summary>The processes of the box now.</summary>
    ValueTask<IReadOnlyList<BoxProcessInfo>> ListProcessesAsync(BoxContext box, CancellationToken cancellationToken);

    /// <summary>
    /// Kills every process of the box, confirms none is left, and removes the containment. Throws
    /// <see cref="ReapTimeoutException"/> naming the survivors when that cannot be confirmed within <paramref name="timeout"/>.
    /// </summary>
    ValueTask<ReapReport> ReapAsync(BoxContext box, TimeSpan timeout, CancellationToken cancellationToken);
}
