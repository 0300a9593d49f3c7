using Boxlite.Runtime.Linux.Cgroups;
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
        var join = cgroups.Create(box.Id, box.Info.Options.Limits);
        var command = cgroups.CommandDirectory(box.Id);
        return ValueTask.FromResult(DescribeCommandKill(new BoxLaunchPlan
        {
            JoinFiles = join,
            CommandJoinFiles = [Path.Combine(command, "cgroup.procs")],
        }, command));
    }

    /// <summary>Adds to <paramref name="plan"/> how the monitor kills what is left of the command in <paramref name="commandDirectory"/>.</summary>
    protected abstract BoxLaunchPlan DescribeCommandKill(BoxLaunchPlan plan, string commandDirectory);

    public ValueTask<IReadOnlyList<BoxProcessInfo>> ListProcessesAsync(BoxContext box, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<BoxProcessInfo>>(
            cgroups.Layout.IsUsable ? [.. cgroups.ReadProcesses(box.Id).Select(ProcFs.Describe)] : []);

    public async ValueTask<ReapReport> ReapAsync(BoxContext box, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var start = time.GetTimestamp();
        var dir = cgroups.BoxDirectory(box.Id);
        var fs = cgroups.FileSystem;
        if (!fs.Exists(dir))
        {
            // Nothing to kill; a crash may still have left the v1 counterparts.
            var leftover = await cgroups.RemoveAsync(box.Id, cancellationToken).ConfigureAwait(false);
            return leftover is null
                ? ReapReport.Nothing(Name, Guarantee)
                : throw new ReapTimeoutException(box.Id, time.GetElapsedTime(start), [], leftover);
        }

        var events = Path.Combine(dir, "cgroup.events");
        var killed = cgroups.ReadProcesses(box.Id).Count;
        if (killed > 0 || CgroupEventWaiter.ReadKey(fs.TryRead(events) ?? "", "populated") == "1")
        {
            await KillAsync(dir, timeout, cancellationToken).ConfigureAwait(false);
            var remaining = timeout - time.GetElapsedTime(start);
            if (!await CgroupEventWaiter.WaitAsync(fs, events, "populated", "0", remaining, time, cancellationToken).ConfigureAwait(false))
            {
                var survivors = cgroups.ReadProcesses(box.Id).Select(ProcFs.Describe).ToList();
                throw new ReapTimeoutException(box.Id, time.GetElapsedTime(start), survivors, $"{Name}: {dir} is still populated");
            }
        }

        var outOfMemoryKills = cgroups.ReadOutOfMemoryKills(box.Id);
        var failure = await cgroups.RemoveAsync(box.Id, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            throw new ReapTimeoutException(box.Id, time.GetElapsedTime(start), [], failure);
        }

        return new ReapReport
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
/// </summary>
internal sealed class CgroupFreezeKillReaper(BoxCgroups cgroups, TimeProvider time) : CgroupReaper(cgroups, time)
{
    public const string MethodName = "cgroup-freeze-kill";

    // A D-state process may never report frozen; kill what is listed anyway rather than wait out the whole deadline.
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
                _ = await CgroupEventWaiter.WaitAsync(fs, events, "frozen", "1", wait, Time, cancellationToken).ConfigureAwait(false);
                var pids = Cgroups.ReadProcessesBelow(dir);
                if (pids.Count == 0)
                {
                    return;
                }

                foreach (var pid in pids)
                {
                    _ = Interop.Libc.kill(pid, Interop.LinuxSignals.Kill);
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

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
