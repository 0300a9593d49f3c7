namespace Boxlite.Runtime.MacOS.Reaping;

/// <summary>
/// Reaps a box by its process groups: each keeper's group is SIGKILLed until empty while the keeper (whose pid is the
/// group's number) is still there, then the keeper itself, identity-checked. Declares <see cref="ReapGuarantee.ProcessGroup"/>:
/// a descendant that leaves the group (<c>setsid</c>, <c>setpgid</c>) is not found; macOS has no cgroups to follow it.
/// </summary>
internal sealed class ProcessGroupReaper(ProcessGroupSweeper sweeper, GroupKeepers keepers, TimeProvider time) : ITreeReaper
{
    internal const string MethodName = "process-group";

    /// <summary>How long a keeper whose group is empty may take to leave by itself before it is killed.</summary>
    internal static readonly TimeSpan KeeperGrace = TimeSpan.FromSeconds(2);

    public string Name => MethodName;

    public ReapGuarantee Guarantee => ReapGuarantee.ProcessGroup;

    public ReaperSupport Support => File.Exists(GroupKeeperScript.Perl)
        ? new ReaperSupport(true, "process groups with a keeper (/usr/bin/perl); processes that call setsid or setpgid leave the group and are not reaped")
        : new ReaperSupport(false, $"{GroupKeeperScript.Perl} is missing: it runs the group keeper");

    /// <summary>
    /// The command runs under a group keeper (the platform puts it first in the command's prefix); when the command is
    /// done, or its host gone, the monitor tells that keeper to kill the group.
    /// </summary>
    public ValueTask<BoxContainment> PrepareAsync(BoxContext box, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(GroupKeepers.DirectoryOf(box));
        return ValueTask.FromResult(new BoxContainment { Kill = new CommandKill.KeeperKill(GroupKeepers.BoxKeeperFile(box)) });
    }

    public ValueTask<IReadOnlyList<BoxProcessInfo>> ListProcessesAsync(BoxContext box, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<BoxProcessInfo>>([.. Processes(box).Select(e => e.ToInfo())]);

    /// <summary>The live processes of the box: the members of its keepers' groups, or the single command.</summary>
    public IReadOnlyList<ProcessEntry> Processes(BoxContext box)
    {
        var processes = new List<ProcessEntry>();
        foreach (var keeper in keepers.Find(box))
        {
            if (keeper.Registration.LeadsGroup)
            {
                processes.AddRange(sweeper.LiveMembers(keeper.GroupId));
            }
            else if (sweeper.Table.Get(keeper.Identity.Pid) is { IsZombie: false } single)
            {
                processes.Add(single);
            }
        }

        return processes;
    }

    public async ValueTask<ReapReport> ReapAsync(BoxContext box, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var registrations = GroupKeepers.Registrations(box);
        var killed = 0;
        var survivors = new List<BoxProcessInfo>();
        var problems = new List<string>();
        var guarantee = ReapGuarantee.ProcessGroup;

        foreach (var registration in registrations)
        {
            var remaining = timeout - time.GetElapsedTime(started);
            var identity = keepers.Prove(registration, box.Info.Monitor);
            if (identity is null)
            {
                // The keeper is gone. If its pid now belongs to another process, the kernel handed that pid out only
                // once no group had the number, so any group with it now is someone else's. If no process has it, the
                // group may live on (the keeper was killed outright); its members cannot be proven the box's any more,
                // so they are reported, never signalled.
                if (registration.LeadsGroup && sweeper.Table.Get(registration.Pid) is null)
                {
                    var orphans = sweeper.LiveMembers(registration.Pid).Where(e => e.StartedAt >= registration.WrittenAt - GroupKeepers.ClockTolerance).ToList();
                    if (orphans.Count > 0)
                    {
                        survivors.AddRange(orphans.Select(e => e.ToInfo()));
                        problems.Add($"the keeper of group {registration.Pid} is gone, so its members were not signalled");
                    }
                }

                continue;
            }

            if (registration.LeadsGroup)
            {
                var sweep = await sweeper.SweepAsync(identity, remaining, cancellationToken).ConfigureAwait(false);
                killed += sweep.Killed;
                survivors.AddRange(sweep.Survivors);
                if (sweep.Problem is not null)
                {
                    problems.Add(sweep.Problem);
                    continue;
                }
            }
            else
            {
                guarantee = ReapGuarantee.SingleProcess;
            }

            // The group is empty; the keeper (or the single command) goes next. A keeper leaves by itself once its
            // group is empty: give it the chance, so the exit status it reports is its command's.
            var grace = registration.LeadsGroup ? Min(KeeperGrace, timeout - time.GetElapsedTime(started)) : TimeSpan.Zero;
            var keeperGone = await WaitGoneAsync(identity, grace, cancellationToken).ConfigureAwait(false);
            if (!keeperGone)
            {
                if (sweeper.TrySignal(identity, SignalNumbers.Kill))
                {
                    killed++;
                }

                if (!await WaitGoneAsync(identity, timeout - time.GetElapsedTime(started), cancellationToken).ConfigureAwait(false) &&
                    sweeper.Table.Get(identity.Pid) is { } stuck)
                {
                    survivors.Add(stuck.ToInfo());
                    problems.Add($"process {identity.Pid} survived SIGKILL");
                }
            }
        }

        var elapsed = time.GetElapsedTime(started);
        if (survivors.Count > 0)
        {
            throw new ReapTimeoutException(box.Id, elapsed, survivors, string.Join("; ", problems.Distinct()));
        }

        var removed = RemoveContainment(box);
        return new ReapReport
        {
            Method = MethodName,
            ProcessesKilled = killed,
            Duration = elapsed,
            ContainmentRemoved = removed,
            Guarantee = guarantee,
        };
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private async ValueTask<bool> WaitGoneAsync(ProcessIdentity identity, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (sweeper.IsRunning(identity))
        {
            if (time.GetElapsedTime(started) >= timeout)
            {
                return false;
            }

            await Task.Delay(ProcessGroupSweeper.RoundInterval, time, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>Removes the keepers directory (registrations left by keepers that were killed).</summary>
    private static bool RemoveContainment(BoxContext box)
    {
        var directory = GroupKeepers.DirectoryOf(box);
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
