using Boxlite.Runtime.Linux.Cgroups;
using Boxlite.Runtime.Linux.Interop;
using Boxlite.Runtime.Linux.Processes;
using Boxlite.Runtime.Platform;

namespace Boxlite.Runtime.Linux.Reaping;

/// <summary>
/// A reaper that contains a box in its cgroup and reaps it by the cgroup, never by pid: kill everything in it, wait
/// until the kernel reports <c>populated 0</c>, then remove the directories.
/// </summary>
internal abstract class CgroupReaper(BoxCgroups cgroups, TimeProvider time) : ITreeReaper
{
    public abstract string Name { get; }

    public ReapGuarantee Guarantee => ReapGuarantee.WholeTree;

    public abstract ReaperSupport Support { get; }

    protected BoxCgroups Cgroups => cgroups;

    protected TimeProvider Time => time;

    public ValueTask<BoxLaunchPlan> PrepareAsync(BoxContext box, CancellationToken cancellationToken)
    {
        var options = box.Info.Options;
        var plan = cgroups.Create(box.Id, options.Limits, options.Isolation);
        return ValueTask.FromResult(DescribeCommandKill(plan, cgroups.Of(box.Id).CommandDirectory));
    }

    /// <summary>Adds to <paramref name="plan"/> how the monitor kills what is left of the command in <paramref name="commandDirectory"/>.</summary>
    protected abstract BoxLaunchPlan DescribeCommandKill(BoxLaunchPlan plan, string commandDirectory);

    public ValueTask<IReadOnlyList<BoxProcessInfo>> ListProcessesAsync(BoxContext box, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<BoxProcessInfo>>(
            cgroups.Layout.IsUsable ? [.. cgroups.ReadProcesses(cgroups.Of(box.Info)).Select(ProcFs.Describe)] : []);

    public async ValueTask<ReapReport> ReapAsync(BoxContext box, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = time.GetTimestamp();
        var cgroup = cgroups.Of(box.Info);
        var fs = cgroups.FileSystem;

        // Without the v2 directory there is nothing to kill; a crash may still have left the v1 counterparts.
        var existed = fs.Exists(cgroup.Directory);
        var killed = 0;
        if (existed)
        {
            // populated 0: no process is left anywhere below (a finalize after the monitor's own clean-up), so there is
            // nothing to list, kill or wait for; only the directories remain to remove.
            var events = Path.Combine(cgroup.Directory, "cgroup.events");
            var populated = CgroupEventWaiter.ReadKey(fs.TryRead(events) ?? "", "populated");
            killed = populated == "0" ? 0 : cgroups.ReadProcesses(cgroup).Count;
            if (killed > 0 || populated == "1")
            {
                await KillAsync(cgroup.Directory, timeout, cancellationToken).ConfigureAwait(false);
                var remaining = timeout - time.GetElapsedTime(start);
                if (!await CgroupEventWaiter.WaitAsync(fs, events, "populated", "0", remaining, time, cancellationToken).ConfigureAwait(false))
                {
                    var survivors = cgroups.ReadProcesses(cgroup).Select(ProcFs.Describe).ToList();
                    throw new ReapTimeoutException(box.Id, time.GetElapsedTime(start), survivors, $"{Name}: {cgroup.Directory} is still populated");
                }
            }
        }

        var outOfMemoryKills = cgroups.ReadOutOfMemoryKills(cgroup);
        var failure = await cgroups.RemoveAsync(cgroup, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            throw new ReapTimeoutException(box.Id, time.GetElapsedTime(start), [], failure);
        }

        // The monitor lives in the box cgroup, so the kill took it: alive, it is contained somewhere this reap did not look.
        if (box.Info.Monitor is { } monitor && ProcessSignaller.IsAlive(monitor))
        {
            throw new ReapTimeoutException(box.Id, time.GetElapsedTime(start), [ProcFs.Describe(monitor.Pid)],
                $"{Name}: the box monitor is alive outside {cgroup.Directory}");
        }

        return !existed
            ? ReapReport.Nothing(Name, Guarantee)
            : new ReapReport
            {
                Method = Name,
                ProcessesKilled = killed,
                Duration = time.GetElapsedTime(start),
                ContainmentRemoved = true,
                Guarantee = Guarantee,
                OutOfMemoryKills = outOfMemoryKills,
            };
    }

    /// <summary>Kills every process of the cgroup at <paramref name="dir"/> and below.</summary>
    protected abstract ValueTask KillAsync(string dir, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>Writes <c>1</c> to <c>cgroup.kill</c>: the kernel SIGKILLs the whole subtree at once, racing no fork (kernel 5.14+).</summary>
internal sealed class CgroupKillReaper(BoxCgroups cgroups, TimeProvider time) : CgroupReaper(cgroups, time)
{
    public const string MethodName = "cgroup-kill";

    public override string Name => MethodName;

    public override ReaperSupport Support => !Cgroups.Layout.IsUsable
        ? new(false, $"no usable cgroup v2: {Cgroups.Layout.BoxRootDetail}")
        : Cgroups.Layout.HasKill
            ? new(true, $"cgroup.kill available; boxes under {Cgroups.Layout.BoxRoot}")
            : new(false, "cgroup.kill is missing (kernel older than 5.14)");

    protected override BoxLaunchPlan DescribeCommandKill(BoxLaunchPlan plan, string commandDirectory) =>
        plan with { KillFile = Path.Combine(commandDirectory, "cgroup.kill") };

    protected override ValueTask KillAsync(string dir, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Cgroups.FileSystem.Write(Path.Combine(dir, "cgroup.kill"), "1");
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// For kernels without <c>cgroup.kill</c>: freeze the subtree (no process can fork or exit while frozen, so no pid in
/// <c>cgroup.procs</c> can be recycled), SIGKILL every listed pid, thaw so the kills land, and repeat until empty.
/// When the freeze is not confirmed, only pidfds checked against the cgroup carry the kill.
/// </summary>
internal sealed class CgroupFreezeKillReaper(BoxCgroups cgroups, TimeProvider time) : CgroupReaper(cgroups, time)
{
    public const string MethodName = "cgroup-freeze-kill";

    // A process in uninterruptible sleep (D) never reports frozen; do not wait out the whole deadline for it.
    private static readonly TimeSpan FreezeWait = TimeSpan.FromSeconds(1);

    public override string Name => MethodName;

    public override ReaperSupport Support => !Cgroups.Layout.IsUsable
        ? new(false, $"no usable cgroup v2: {Cgroups.Layout.BoxRootDetail}")
        : Cgroups.Layout.HasFreeze
            ? new(true, $"cgroup.freeze available; boxes under {Cgroups.Layout.BoxRoot}")
            : new(false, "cgroup.freeze is missing (kernel older than 5.2)");

    protected override BoxLaunchPlan DescribeCommandKill(BoxLaunchPlan plan, string commandDirectory) =>
        plan with { ProcsFile = Path.Combine(commandDirectory, "cgroup.procs") };

    protected override async ValueTask KillAsync(string dir, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var fs = Cgroups.FileSystem;
        var freeze = Path.Combine(dir, "cgroup.freeze");
        var events = Path.Combine(dir, "cgroup.events");
        var start = Time.GetTimestamp();
        while (Time.GetElapsedTime(start) < timeout)
        {
            fs.Write(freeze, "1");
            try
            {
                var wait = Min(FreezeWait, timeout - Time.GetElapsedTime(start));
                var frozen = await CgroupEventWaiter.WaitAsync(fs, events, "frozen", "1", wait, Time, cancellationToken).ConfigureAwait(false);
                var pids = Cgroups.ReadProcessesBelow(dir);
                if (pids.Count == 0)
                {
                    return;
                }

                if (frozen && CgroupEventWaiter.ReadKey(fs.TryRead(events) ?? "", "frozen") == "1")
                {
                    // Frozen before and after the listing: no listed process could exit, so no listed pid was reused.
                    foreach (var pid in pids)
                    {
                        _ = Libc.kill(pid, LinuxSignals.Kill);
                    }
                }
                else
                {
                    KillThroughPidfds(dir, pids);
                }
            }
            finally
            {
                if (fs.Exists(freeze))
                {
                    fs.Write(freeze, "0");
                }
            }
        }
    }

    /// <summary>
    /// Not frozen (a process in uninterruptible sleep cannot be), a listed process may exit and its pid be reused outside
    /// the box before the kill. So each pid gets a pidfd first, and is signalled through it only if the box still lists
    /// it afterwards: the descriptor then names the very process the box holds. Without pidfds nothing is signalled
    /// here; the next round freezes again.
    /// </summary>
    private void KillThroughPidfds(string dir, List<int> pids)
    {
        if (!ProcessSignaller.HasPidfd)
        {
            return;
        }

        var opened = new List<(int Pid, int Fd)>(pids.Count);
        try
        {
            foreach (var pid in pids)
            {
                var fd = Libc.PidfdOpen(pid);
                if (fd >= 0)
                {
                    opened.Add((pid, fd));
                }
            }

            var listed = Cgroups.ReadProcessesBelow(dir).ToHashSet();
            foreach (var (pid, fd) in opened.Where(o => listed.Contains(o.Pid)))
            {
                _ = Libc.PidfdSendSignal(fd, LinuxSignals.Kill);
            }
        }
        finally
        {
            foreach (var (_, fd) in opened)
            {
                _ = Libc.close(fd);
            }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
