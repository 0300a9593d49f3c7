using Boxlite.Runtime.Linux.Interop;

namespace Boxlite.Runtime.Linux.Processes;

/// <summary>
/// Identity-safe signals (G3): a signal reaches a pid only after its start time and boot match the record. With
/// pidfds the descriptor is opened first and the identity verified after, so the descriptor provably names the
/// recorded process and a later pid reuse cannot redirect the signal.
/// </summary>
internal static class ProcessSignaller
{
    private static readonly Lazy<bool> PidfdProbe = new(ProbePidfd);

    /// <summary>True when this kernel has <c>pidfd_open</c> and <c>pidfd_send_signal</c>.</summary>
    internal static bool HasPidfd => PidfdProbe.Value;

    /// <summary>The identity of a live pid (not a zombie), or null.</summary>
    internal static ProcessIdentity? TryGetIdentity(int pid)
    {
        if (pid <= 0 || ProcFs.TryReadStat(pid) is not { IsDead: false } stat)
        {
            return null;
        }

        return new ProcessIdentity(pid, stat.StartTime, ProcFs.BootId);
    }

    /// <summary>True when the process recorded as <paramref name="identity"/> is alive (a recycled pid is not).</summary>
    internal static bool IsAlive(ProcessIdentity identity) =>
        identity.BootId == ProcFs.BootId && TryGetIdentity(identity.Pid)?.StartTime == identity.StartTime;

    /// <summary>Sends <paramref name="signal"/> to the process only if it still is <paramref name="identity"/>.</summary>
    /// <returns>True when the signal was delivered.</returns>
    internal static bool TrySignal(ProcessIdentity identity, int signal)
    {
        if (identity.Pid <= 0 || identity.BootId != ProcFs.BootId)
        {
            return false;
        }

        if (!HasPidfd)
        {
            return IsAlive(identity) && Libc.kill(identity.Pid, signal) == 0;
        }

        var fd = Libc.PidfdOpen(identity.Pid);
        if (fd < 0)
        {
            return false;
        }

        try
        {
            return IsAlive(identity) && Libc.PidfdSendSignal(fd, signal) == 0;
        }
        finally
        {
            _ = Libc.close(fd);
        }
    }

    private static bool ProbePidfd()
    {
        var fd = Libc.PidfdOpen(Environment.ProcessId);
        if (fd < 0)
        {
            return false;
        }

        // pidfd_send_signal with signal 0 checks the call exists without signalling anyone.
        var ok = Libc.PidfdSendSignal(fd, 0) == 0;
        _ = Libc.close(fd);
        return ok;
    }
}
