namespace Boxlite.Runtime.Platform;

/// <summary>
/// One operating system's way of running boxes: containment, isolation, identity-safe signals. Registered by the
/// platform packages (<c>AddLinux()</c>, <c>AddMacOS()</c>); the core talks only to this.
/// </summary>
internal interface IBoxPlatform
{
    /// <summary>The platform's name (<c>linux</c>, <c>macos</c>).</summary>
    string Name { get; }

    /// <summary>True when this platform can run on the current operating system.</summary>
    bool IsCurrentOperatingSystem { get; }

    /// <summary>The active reaper.</summary>
    ITreeReaper Reaper { get; }

    /// <summary>The identity of this process (the owner of attached boxes).</summary>
    ProcessIdentity CurrentProcess { get; }

    /// <summary>
    /// Throws <see cref="PlatformCapabilityException"/> when this host cannot honour <paramref name="options"/>
    /// (isolation unavailable, a limit that cannot be enforced). Called before anything is created.
    /// </summary>
    void EnsureSupported(BoxOptions options);

    /// <summary>Prepares containment and isolation for the box monitor.</summary>
    ValueTask<BoxLaunchPlan> PrepareAsync(BoxContext box, CancellationToken cancellationToken);

    /// <summary>Throws <see cref="BoxStartException"/> unless the monitor <paramref name="monitorPid"/> is contained.</summary>
    ValueTask VerifyContainedAsync(BoxContext box, int monitorPid, CancellationToken cancellationToken);

    /// <summary>The identity of a live pid, or null when it does not exist.</summary>
    ProcessIdentity? TryGetIdentity(int pid);

    /// <summary>True when the process with this identity is still alive (a recycled pid is not).</summary>
    bool IsAlive(ProcessIdentity identity);

    /// <summary>
    /// Completes when the process with this identity has exited: at once when it is not alive now (gone, a zombie, or
    /// its pid taken by another process). Any number of callers may watch one process. Watch with an operating system
    /// notification where there is one (Linux: a pidfd, checked against the identity after it is opened), so that
    /// noticing an exit costs nothing while the process runs; cancelling only stops this caller's wait.
    /// </summary>
    Task WhenExitedAsync(ProcessIdentity identity, CancellationToken cancellationToken);

    /// <summary>Delivers a signal (a <see cref="BoxSignals"/> name) to the box's command itself; returns how many processes got it.</summary>
    ValueTask<int> SignalCommandAsync(BoxContext box, string signal, CancellationToken cancellationToken);

    /// <summary>Freezes or thaws every process of the box.</summary>
    ValueTask SetFrozenAsync(BoxContext box, bool frozen, CancellationToken cancellationToken);

    /// <summary>Resource use of the whole box.</summary>
    ValueTask<BoxMetrics> GetMetricsAsync(BoxContext box, CancellationToken cancellationToken);

    /// <summary>How a new process joins the running box: its containment and, for namespaced isolation, its namespaces.</summary>
    ValueTask<BoxLaunchPlan> PrepareExecAsync(BoxContext box, CancellationToken cancellationToken);

    /// <summary>Boxes whose containment exists on this host (to find containment with no record).</summary>
    ValueTask<IReadOnlyList<BoxId>> ListContainedBoxesAsync(CancellationToken cancellationToken);

    /// <summary>What this host can and cannot do, with fixes.</summary>
    IReadOnlyList<CapabilityCheck> Diagnose();
}
