namespace Boxlite.Runtime.MacOS.Reaping;

/// <summary>What a group sweep did.</summary>
/// <param name="Killed">Live members when the first SIGKILL went out.</param>
/// <param name="Survivors">Live members left at the end (empty when the group is confirmed empty).</param>
/// <param name="Problem">Why survivors are left, when there are any.</param>
internal sealed record GroupSweep(int Killed, IReadOnlyList<BoxProcessInfo> Survivors, string? Problem);

/// <summary>
/// Identity-checked signals and the process-group sweep, written against <see cref="IProcessTable"/> so the same code
/// runs on macOS (libSystem) and, in tests, on Linux (<c>/proc</c>).
/// </summary>
internal sealed class ProcessGroupSweeper(IProcessTable table, TimeProvider time)
{
    /// <summary>Pause between kill rounds: long enough for the kernel to deliver, short enough to catch a fork.</summary>
    internal static readonly TimeSpan RoundInterval = TimeSpan.FromMilliseconds(10);

    public IProcessTable Table => table;

    /// <summary>True when <paramref name="identity"/> still names the same process (a zombie included): pid, start time and boot agree.</summary>
    public bool Matches(ProcessIdentity identity)
    {
        var entry = table.Get(identity.Pid);
        return entry is not null && entry.StartTime == identity.StartTime && identity.BootId == table.BootId;
    }

    /// <summary>True when the process is the same one and has not exited.</summary>
    public bool IsRunning(ProcessIdentity identity) =>
        table.Get(identity.Pid) is { IsZombie: false } entry && entry.StartTime == identity.StartTime && identity.BootId == table.BootId;

    /// <summary>Signals the process only if it is still the one <paramref name="identity"/> names (a recycled pid is never signalled).</summary>
    public bool TrySignal(ProcessIdentity identity, int signal) => Matches(identity) && table.Signal(identity.Pid, signal) == 0;

    /// <summary>Members of the group that have not exited.</summary>
    public IReadOnlyList<ProcessEntry> LiveMembers(int groupId)
    {
        var members = new List<ProcessEntry>();
        foreach (var pid in table.ListGroup(groupId))
        {
            if (table.Get(pid) is { IsZombie: false } entry && entry.GroupId == groupId)
            {
                members.Add(entry);
            }
        }

        return members;
    }

    /// <summary>
    /// Signals the group whose number is <paramref name="holder"/>'s pid, but only while <paramref name="holder"/> still
    /// exists (running or unreaped): as long as it does, no other group can get that number.
    /// </summary>
    public bool TrySignalGroup(ProcessIdentity holder, int signal) =>
        Matches(holder) && table.SignalGroup(holder.Pid, signal) == 0;

    /// <summary>
    /// SIGKILLs the group whose number is <paramref name="holder"/>'s pid until no live member is left, re-killing what
    /// forked in between. The holder must stay unreaped meanwhile;
    /// the moment it is gone the group's number could be recycled, so the sweep stops signalling and reports what is left.
    /// The sweep never collects the holder itself: that is its parent's duty once the group is empty (the monitor's
    /// <c>sh</c> for a keeper), and a .NET host's own children belong to <see cref="System.Diagnostics.Process"/>.
    /// </summary>
    public async ValueTask<GroupSweep> SweepAsync(ProcessIdentity holder, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        int? killed = null;
        while (true)
        {
            var members = LiveMembers(holder.Pid);
            if (members.Count == 0)
            {
                return new GroupSweep(killed ?? 0, [], null);
            }

            if (!Matches(holder))
            {
                return new GroupSweep(killed ?? 0, Infos(members),
                    $"process {holder.Pid}, which holds the group's number, is gone: the group could be a recycled one, so it was not signalled");
            }

            killed ??= members.Count;
            table.SignalGroup(holder.Pid, SignalNumbers.Kill);
            if (time.GetElapsedTime(started) >= timeout)
            {
                var left = LiveMembers(holder.Pid);
                if (left.Count > 0)
                {
                    return new GroupSweep(killed.Value, Infos(left), "still present at the deadline");
                }

                continue;
            }

            await Task.Delay(RoundInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static BoxProcessInfo[] Infos(IReadOnlyList<ProcessEntry> entries) => [.. entries.Select(e => e.ToInfo())];
}
