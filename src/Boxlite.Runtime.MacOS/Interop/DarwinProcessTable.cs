using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text;
using Boxlite.Runtime.MacOS.Reaping;

namespace Boxlite.Runtime.MacOS.Interop;

/// <summary>The process table of macOS through libproc (<c>proc_listpids</c>, <c>proc_pidinfo</c>) in libSystem.</summary>
[SupportedOSPlatform("macos")]
internal sealed unsafe class DarwinProcessTable : IProcessTable
{
    // pbi_status values (<sys/proc.h>).
    private const uint StatusIdle = 1;
    private const uint StatusRunning = 2;
    private const uint StatusStopped = 4;
    private const uint StatusZombie = 5;

    private readonly Lazy<string> _bootId = new(ReadBootId);

    public string BootId => _bootId.Value;

    public ProcessEntry? Get(int pid)
    {
        if (pid <= 0)
        {
            return null;
        }

        LibSystem.ProcBsdInfo info;
        var size = sizeof(LibSystem.ProcBsdInfo);
        // A zombie has no task left to describe: proc_pidinfo fails for it, so it reads as gone, which it is.
        if (LibSystem.ProcPidInfo(pid, LibSystem.ProcPidTBsdInfo, 0, &info, size) != size || info.Pid != (uint)pid)
        {
            return null;
        }

        var micros = checked((long)info.StartSeconds * 1_000_000 + (long)info.StartMicroseconds);
        var state = info.Status switch
        {
            StatusZombie => 'Z',
            StatusStopped => 'T',
            StatusRunning => 'R',
            StatusIdle => 'I',
            _ => 'S',
        };
        return new ProcessEntry(pid, (int)info.ParentPid, (int)info.ProcessGroupId, micros,
            DateTimeOffset.UnixEpoch.AddTicks(micros * 10), CommandName(info.Command), state);
    }

    public IReadOnlyList<int> ListGroup(int groupId) => ListPids(LibSystem.ProcPgrpOnly, groupId);

    public IReadOnlyList<int> ListChildren(int pid) => ListPids(LibSystem.ProcPpidOnly, pid);

    private static IReadOnlyList<int> ListPids(uint selector, int value)
    {
        if (value <= 0)
        {
            return [];
        }

        // proc_listpids with a null buffer answers the size it needs; the set may grow in between, so leave headroom.
        var needed = LibSystem.ProcListPids(selector, (uint)value, null, 0);
        if (needed <= 0)
        {
            return [];
        }

        var buffer = new int[needed / sizeof(int) + 64];
        fixed (int* pids = buffer)
        {
            var bytes = LibSystem.ProcListPids(selector, (uint)value, pids, buffer.Length * sizeof(int));
            return bytes <= 0 ? [] : [.. buffer.AsSpan(0, bytes / sizeof(int)).ToArray().Where(p => p > 0)];
        }
    }

    // Pids 0 and -1 (and negative ones) address groups or everyone: never through this door.
    public int Signal(int pid, int signal) =>
        pid <= 1 ? LibSystem.ESRCH : LibSystem.Kill(pid, signal) == 0 ? 0 : Marshal.GetLastPInvokeError();

    public int SignalGroup(int groupId, int signal) =>
        groupId <= 1 ? LibSystem.ESRCH : LibSystem.Kill(-groupId, signal) == 0 ? 0 : Marshal.GetLastPInvokeError();

    private static string CommandName(ReadOnlySpan<byte> raw)
    {
        var end = raw.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? raw : raw[..end]);
    }

    private static string CommandName(byte* raw) => CommandName(new ReadOnlySpan<byte>(raw, 16));

    private static string ReadBootId()
    {
        // kern.bootsessionuuid changes with every boot, like Linux's boot_id.
        nuint length = 64;
        var buffer = stackalloc byte[64];
        if (LibSystem.SysctlByName("kern.bootsessionuuid", buffer, &length, null, 0) != 0 || length == 0)
        {
            return "unknown";
        }

        return CommandName(new ReadOnlySpan<byte>(buffer, (int)length));
    }
}
