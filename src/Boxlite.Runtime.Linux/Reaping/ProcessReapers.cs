using Boxlite.Runtime.Linux.Interop;
using Boxlite.Runtime.Linux.Isolation;
using Boxlite.Runtime.Linux.Processes;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Linux.Reaping;

/// <summary>Reapers without a cgroup: they kill recorded processes, identity-checked, and wait until those are gone.</summary>
internal abstract class ProcessReaper(TimeProvider time) : ITreeReaper
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);

    public abstract string Name { get; }

    public abstract ReapGuarantee Guarantee { get; }

    public abstract ReaperSupport Support { get; }

    // No containment to create: the monitor's kill of the command's rest has nothing to work with either.
    public ValueTask<BoxLaunchPlan> PrepareAsync(BoxContext box, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new BoxLaunchPlan());

    public ValueTask<IReadOnlyList<BoxProcessInfo>> ListProcessesAsync(BoxContext box, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<BoxProcessInfo>>([.. Targets(box).Select(t => t.Pid).Distinct().Select(ProcFs.Describe)]);

    public async ValueTask<ReapReport> ReapAsync(BoxContext box, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = time.GetTimestamp();
        var targets = Targets(box);
        if (targets.Count == 0)
        {
            return ReapReport.Nothing(Name, Guarantee);
        }

        var killed = CountKilled(targets);
        foreach (var target in targets)
        {
            _ = ProcessSignaller.TrySignal(target, LinuxSignals.Kill);
        }

        while (true)
        {
            var alive = targets.Where(ProcessSignaller.IsAlive).ToList();
            if (alive.Count == 0)
            {
                // The targets included every process that forks: what is left of the box now only shrinks.
                alive = Stragglers(box);
                foreach (var straggler in alive)
                {
                    _ = ProcessSignaller.TrySignal(straggler, LinuxSignals.Kill);
                }
            }

            if (alive.Count == 0)
            {
                return new ReapReport
                {
                    Method = Name,
                    ProcessesKilled = killed,
                    Duration = time.GetElapsedTime(start),
                    ContainmentRemoved = true,
                    Guarantee = Guarantee,
                };
            }

            if (time.GetElapsedTime(start) >= timeout)
            {
                throw new ReapTimeoutException(box.Id, time.GetElapsedTime(start), [.. alive.Select(a => ProcFs.Describe(a.Pid))], Name);
            }

            await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The identity-proven processes to kill, the most important first.</summary>
    protected abstract List<ProcessIdentity> Targets(BoxContext box);

    /// <summary>How many processes the kill of <paramref name="targets"/> takes down.</summary>
    protected virtual int CountKilled(List<ProcessIdentity> targets) => targets.Count;

    /// <summary>Processes of the box still alive once the targets are gone, to be killed too (none by default).</summary>
    protected virtual List<ProcessIdentity> Stragglers(BoxContext box) => [];
}

/// <summary>
/// Kills the init of the box's private PID namespace: the kernel then kills every process in that namespace, however
/// deep or daemonized. Whole tree within the namespace; needs namespaced isolation (refused for isolation None). The
/// init is found from the recorded monitor through the process tree, never from a file the box could write.
/// </summary>
internal sealed class PidNamespaceInitReaper(LinuxTools tools, TimeProvider time) : ProcessReaper(time)
{
    public const string MethodName = "pidns-init";

    public override string Name => MethodName;

    public override ReapGuarantee Guarantee => ReapGuarantee.WholeTree;

    public override ReaperSupport Support => tools.Unshare is not null || tools.Bwrap is not null
        ? new(true, "kills the init of each box's private PID namespace (boxes need PidNamespace or Bubblewrap isolation)")
        : new(false, "neither unshare nor bwrap is installed, so boxes cannot have a private PID namespace");

    protected override List<ProcessIdentity> Targets(BoxContext box)
    {
        // Only what the live recorded monitor proves: the init of the namespace its launcher child made, its children
        // (the launcher, the log writers) and itself. Without the monitor nothing proves which namespace is the box's.
        if (BoxProcesses.Monitor(box) is not { } monitor)
        {
            return [];
        }

        List<ProcessIdentity> targets = BoxProcesses.Namespace(monitor) is { } ns ? [ns.Init] : [];
        return [.. targets, .. BoxProcesses.ChildrenOf(monitor), monitor];
    }

    // The monitor's own helpers (its log writers, the rename of the exit status) live outside the namespace, in the
    // monitor's session; without them the box is not gone when the reap returns.
    protected override List<ProcessIdentity> Stragglers(BoxContext box) =>
        box.Info.Monitor is { } monitor ? BoxProcesses.InSessionOf(monitor) : [];

    protected override int CountKilled(List<ProcessIdentity> targets)
    {
        // The first target is the namespace init when one was found (innermost pid 1, below the host namespace).
        return targets.Count > 0 && ProcFs.ReadNamespacePids(targets[0].Pid) is { Length: > 1 } ns && ns[^1] == 1
            ? BoxProcesses.InNamespaceOf(targets[0].Pid).Count + targets.Count - 1
            : targets.Count;
    }
}

/// <summary>Last resort: the recorded monitor and its first child only, identity-checked. Their descendants may survive.</summary>
internal sealed class SinglePidReaper(TimeProvider time) : ProcessReaper(time)
{
    public const string MethodName = "single-pid";

    public override string Name => MethodName;

    public override ReapGuarantee Guarantee => ReapGuarantee.SingleProcess;

    public override ReaperSupport Support => new(true, "kills only the recorded processes; descendants that outlive them are not covered");

    protected override List<ProcessIdentity> Targets(BoxContext box) =>
        [.. new[] { BoxProcesses.Launcher(box), BoxProcesses.Monitor(box) }.OfType<ProcessIdentity>()];
}
